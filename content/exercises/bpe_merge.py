"""One byte-pair-encoding merge step."""

FUNCTION = "bpe_merge_step"
TITLE = {"en": "One BPE merge step", "zh": "BPE 的一步合并"}
TASK = {
    "en": "Implement `bpe_merge_step(words, counts)`: `words` is a list of words, each a list of "
    "symbols (strings), `counts[i]` how often word i occurs. Find the most frequent adjacent pair "
    "(weighted by counts; ties go to the lexicographically smallest pair), merge every occurrence "
    "left to right without overlap, and return `(pair, new_words)` with pair a tuple of two strings.",
    "zh": "实现 `bpe_merge_step(words, counts)`：`words` 是词的列表，每个词是符号（字符串）列表，`counts[i]` 为第 i 个词的出现次数。找出按次数加权后最频繁的相邻符号对（并列取字典序最小），从左到右不重叠地合并所有出现，返回 `(pair, new_words)`，pair 为两个字符串的元组。",
}
STARTER = """def bpe_merge_step(words: list, counts: list):
    ...
"""
REFERENCE = """def bpe_merge_step(words: list, counts: list):
    freq = {}
    for word, count in zip(words, counts):
        for pair in zip(word, word[1:]):
            freq[pair] = freq.get(pair, 0) + count
    best = min(freq, key=lambda p: (-freq[p], p))
    merged = []
    for word in words:
        out, i = [], 0
        while i < len(word):
            if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                out.append(word[i] + word[i + 1])
                i += 2
            else:
                out.append(word[i])
                i += 1
        merged.append(out)
    return best, merged
"""
WRONG = [
    """def bpe_merge_step(words, counts):
    freq = {}
    for word in words:
        for pair in zip(word, word[1:]):
            freq[pair] = freq.get(pair, 0) + 1
    best = min(freq, key=lambda p: (-freq[p], p))
    merged = []
    for word in words:
        out, i = [], 0
        while i < len(word):
            if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                out.append(word[i] + word[i + 1])
                i += 2
            else:
                out.append(word[i])
                i += 1
        merged.append(out)
    return best, merged
"""
]
HINTS = {
    "en": [
        "Pair frequencies are weighted by word counts.",
        "After merging a pair, skip past both symbols.",
    ],
    "zh": ["符号对的频率要按词频加权。", "合并一对之后跳过这两个符号。"],
}
EXPLANATION = {
    "en": "BPE counts pairs over the corpus, so a pair inside one very frequent word can beat a pair "
    "spread over many rare words.",
    "zh": "BPE 在整个语料上计数，一个高频词里的符号对可能胜过分布在许多低频词里的符号对。",
}


def cases():
    return [
        (
            "counts matter",
            ([list("low"), list("lower"), list("newest"), list("widest")], [5, 2, 6, 3]),
        ),
        ("one frequent word", ([list("ab"), list("cd"), list("xcd"), list("cdy")], [10, 1, 1, 1])),
        ("overlap", ([list("aaa"), list("aaaa")], [1, 1])),
        ("one word", ([list("hug")], [4])),
    ]
