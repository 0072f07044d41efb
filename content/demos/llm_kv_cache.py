"""KV cache: cached incremental decoding against full recomputation in a tiny causal decoder."""

# ruff: noqa: E501  (Chinese strings count double width; splitting them hurts reading)

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "KV cache: same logits, linear work per token"
DESCRIPTION = (
    "Greedily decodes with a tiny causal Transformer twice, recomputing the whole prefix at "
    "every step and reusing cached keys and values, and compares the logits, the attention "
    "work per new token and the cache's size."
)
TITLE_ZH = "KV cache：logits 不变，每个 token 的计算量线性增长"
DESCRIPTION_ZH = (
    "用一个很小的因果 Transformer 做两次贪心解码：一次每步重算整个前缀，一次复用缓存的 K 和 V，"
    "比较两者的 logits、每个新 token 的注意力计算量和缓存的大小。"
)
CLAIMS = {
    "cached-matches-full": (
        "With the configured cache, every generated token's logits equal full recomputation's "
        "to float64 tolerance (max difference below 1e-9) and the greedy tokens are identical."
    ),
    "cached-work-linear": (
        "Per new token, cached decoding computes attention scores against the t tokens so far "
        "(linear in t), while full recomputation computes a t x t score matrix (quadratic), so "
        "the last step costs at least 10 times more without the cache."
    ),
    "cache-size-formula": (
        "The cache holds exactly 2 x layers x kv_heads x head_dim x tokens numbers per "
        "sequence (keys and values), as the memory formula says."
    ),
}
CLAIMS_ZH = {
    "cached-matches-full": (
        "在所选缓存方式下，每个生成 token 的 logits 与完整重算一致（float64 下最大差异小于 1e-9），"
        "贪心选出的 token 完全相同。"
    ),
    "cached-work-linear": (
        "每生成一个 token，用缓存只需和已有的 t 个 token 算注意力分数（随 t 线性增长），"
        "完整重算则要算 t x t 的分数矩阵（平方增长），最后一步不用缓存的计算量至少是 10 倍。"
    ),
    "cache-size-formula": (
        "每条序列的缓存正好存 2 x 层数 x KV 头数 x 头维度 x token 数个数（K 和 V），与内存公式一致。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "cached-matches-full": "cache = correct (a stale cache or a reset position breaks it)",
    "cached-work-linear": "prompt_len + new_tokens >= 12",
    "cache-size-formula": "always (any kv_heads dividing heads)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "cached-matches-full": "cache = correct（缓存过期或位置重置都会破坏一致性）",
    "cached-work-linear": "prompt_len + new_tokens >= 12",
    "cache-size-formula": "总成立（kv_heads 能整除 heads 即可）",
}
TEXT_ZH = {
    "Max |logit difference| per generated token": "每个生成 token 的 logits 最大差异",
    "generated token": "生成的第几个 token",
    "max |cached - full|": "|缓存 - 重算| 最大值",
    "difference": "差异",
    "Attention scores computed per new token": "每个新 token 计算的注意力分数个数",
    "sequence length t": "序列长度 t",
    "scores": "分数个数",
    "with KV cache": "使用 KV cache",
    "full recomputation": "完整重算",
    "KV-cache size for real models (fp16, one sequence)": "真实模型的 KV cache 大小（fp16，单条序列）",
    "model": "模型",
    "layers": "层数",
    "kv heads": "KV 头数",
    "head dim": "头维度",
    "context": "上下文长度",
    "cache GiB": "缓存 GiB",
    "Cache mode: correct appends each new key/value; stale stops appending after the prompt; "
    "reset-position embeds each new token at position 0": (
        "缓存方式：correct 每步追加新的 K/V；stale 处理完 prompt 后不再追加；"
        "reset-position 把每个新 token 当作位置 0 编码"
    ),
    "Prompt tokens": "prompt 的 token 数",
    "Tokens to generate": "要生成的 token 数",
    "Transformer layers": "Transformer 层数",
    "Query heads": "查询头数",
    "Key/value heads (fewer than heads = grouped-query attention)": (
        "K/V 头数（少于查询头数即分组查询注意力 GQA）"
    ),
}

# Real configurations for the size table (public model cards; fp16 = 2 bytes per number).
_REAL_MODELS = [
    ("Llama-2-7B (MHA)", 32, 32, 128, 4096),
    ("Llama-2-70B (GQA 8)", 80, 8, 128, 4096),
    ("Llama-3-8B (GQA 8)", 32, 8, 128, 8192),
]


class Params(BaseModel):
    cache: Literal["correct", "stale", "reset-position"] = Field(
        "correct",
        description=(
            "Cache mode: correct appends each new key/value; stale stops appending after the "
            "prompt; reset-position embeds each new token at position 0"
        ),
    )
    prompt_len: int = Field(8, ge=1, le=64, description="Prompt tokens")
    new_tokens: int = Field(24, ge=2, le=64, description="Tokens to generate")
    layers: int = Field(2, ge=1, le=4, description="Transformer layers")
    heads: int = Field(4, ge=1, le=8, description="Query heads")
    kv_heads: int = Field(
        2, ge=1, le=8, description="Key/value heads (fewer than heads = grouped-query attention)"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    import torch.nn.functional as F

    if params.heads % params.kv_heads:
        raise ValueError(f"kv_heads={params.kv_heads} must divide heads={params.heads}")
    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    dt = torch.float64
    vocab, head_dim = 61, 16
    d = params.heads * head_dim
    d_kv = params.kv_heads * head_dim
    group = params.heads // params.kv_heads
    max_len = params.prompt_len + params.new_tokens

    def init(*shape: int, scale: float) -> torch.Tensor:
        return (torch.randn(*shape, dtype=dt) * scale).to(device)

    emb = init(vocab, d, scale=1.0)
    pos = init(max_len, d, scale=0.5)
    unembed = init(d, vocab, scale=2 * d**-0.5)
    layers = [
        {
            "wq": init(d, d, scale=d**-0.5),
            "wk": init(d, d_kv, scale=d**-0.5),
            "wv": init(d, d_kv, scale=d**-0.5),
            "wo": init(d, d, scale=d**-0.5),
            "w1": init(d, 4 * d, scale=d**-0.5),
            "w2": init(4 * d, d, scale=(4 * d) ** -0.5),
        }
        for _ in range(params.layers)
    ]
    prompt = torch.randint(0, vocab, (params.prompt_len,)).to(device)

    def forward(
        tokens: torch.Tensor, start: int, cache: list[list[torch.Tensor]] | None, append: bool
    ) -> tuple[torch.Tensor, int]:
        """Logits for `tokens` placed at positions start.. ; with `cache`, attends to the
        cached keys/values first. Returns the logits and the attention scores computed."""
        n = tokens.shape[0]
        x = emb[tokens] + pos[start : start + n]
        scores_computed = 0
        for i, w in enumerate(layers):
            h = F.layer_norm(x, (d,))
            q = (h @ w["wq"]).view(n, params.heads, head_dim).transpose(0, 1)
            k = (h @ w["wk"]).view(n, params.kv_heads, head_dim).transpose(0, 1)
            v = (h @ w["wv"]).view(n, params.kv_heads, head_dim).transpose(0, 1)
            if cache is not None:
                k_all = torch.cat([cache[i][0], k], dim=1)
                v_all = torch.cat([cache[i][1], v], dim=1)
                if append:
                    cache[i] = [k_all, v_all]
            else:
                k_all, v_all = k, v
            # Grouped-query attention: each kv head serves `group` query heads.
            k_rep = k_all.repeat_interleave(group, dim=0)
            v_rep = v_all.repeat_interleave(group, dim=0)
            s = q @ k_rep.transpose(1, 2) / head_dim**0.5
            scores_computed += s.numel()
            offset = k_all.shape[1] - n
            mask = torch.ones(n, k_all.shape[1], dtype=torch.bool, device=device).tril(offset)
            s = s.masked_fill(~mask, float("-inf"))
            a = torch.softmax(s, dim=-1) @ v_rep
            x = x + a.transpose(0, 1).reshape(n, d) @ w["wo"]
            x = x + F.gelu(F.layer_norm(x, (d,)) @ w["w1"]) @ w["w2"]
        return F.layer_norm(x, (d,)) @ unembed, scores_computed

    ctx.progress(0.1, "full recomputation")
    seq = prompt.clone()
    full_logits, full_work = [], []
    for _ in range(params.new_tokens):
        logits, work = forward(seq, 0, None, append=False)
        full_logits.append(logits[-1])
        full_work.append(work)
        seq = torch.cat([seq, logits[-1].argmax().view(1)])
    full_tokens = seq[params.prompt_len :].tolist()
    distinct_tokens = len(set(full_tokens))

    ctx.progress(0.5, "cached decoding")
    empty = torch.zeros(params.kv_heads, 0, head_dim, dtype=dt, device=device)
    cache = [[empty, empty] for _ in layers]
    logits, work = forward(prompt, 0, cache, append=True)
    cached_logits, cached_work = [logits[-1]], [work]
    tokens = [int(logits[-1].argmax())]
    for step in range(1, params.new_tokens):
        t = params.prompt_len + step - 1  # position of the token being fed
        start = 0 if params.cache == "reset-position" else t
        logits, work = forward(
            torch.tensor([tokens[-1]], device=device),
            start,
            cache,
            append=params.cache != "stale",
        )
        cached_logits.append(logits[-1])
        cached_work.append(work)
        tokens.append(int(logits[-1].argmax()))

    diffs = [float((a - b).abs().max()) for a, b in zip(cached_logits, full_logits, strict=True)]
    max_diff = max(diffs)
    same_tokens = tokens == full_tokens

    # Work per new token: after the prompt, the cached step is one query row, full is t x t.
    lengths = [params.prompt_len + s for s in range(params.new_tokens)]
    ratio_last = full_work[-1] / cached_work[-1]
    per_token_linear = all(
        cw <= params.layers * params.heads * t
        for cw, t in zip(cached_work[1:], lengths[1:], strict=True)
    )
    full_quadratic = all(
        fw == params.layers * params.heads * t * t for fw, t in zip(full_work, lengths, strict=True)
    )

    cached_numbers = sum(k.numel() + v.numel() for k, v in cache)
    cached_tokens = cache[0][0].shape[1]
    formula_numbers = 2 * params.layers * params.kv_heads * head_dim * cached_tokens
    size_ok = cached_numbers == formula_numbers and cached_tokens > 0

    ctx.progress(0.9, "summarizing")
    steps = [float(s + 1) for s in range(params.new_tokens)]
    rows: list[list[float | int | str | bool]] = []
    for name, n_layers, n_kv, hd, context in _REAL_MODELS:
        gib = 2 * n_layers * n_kv * hd * context * 2 / 2**30
        rows.append([name, n_layers, n_kv, hd, context, round(gib, 3)])
    claims = [
        Claim(
            id="cached-matches-full",
            text=CLAIMS["cached-matches-full"],
            passed=bool(max_diff < 1e-9 and same_tokens),
            values={"max_abs_diff": max_diff, "same_tokens": same_tokens},
        ),
        Claim(
            id="cached-work-linear",
            text=CLAIMS["cached-work-linear"],
            passed=bool(per_token_linear and full_quadratic and ratio_last >= 10),
            values={
                "last_step_full_scores": full_work[-1],
                "last_step_cached_scores": cached_work[-1],
                "ratio": ratio_last,
            },
        ),
        Claim(
            id="cache-size-formula",
            text=CLAIMS["cache-size-formula"],
            passed=bool(size_ok),
            values={"cached_numbers": cached_numbers, "formula": formula_numbers},
        ),
    ]
    return DemoResult(
        summary=(
            f"Cache {params.cache}: max logit difference {max_diff:.2e}, same tokens "
            f"{same_tokens}; last step {full_work[-1]} vs {cached_work[-1]} attention scores "
            f"({ratio_last:.0f}x); cache holds {cached_numbers} numbers."
        ),
        summary_zh=(
            f"缓存方式 {params.cache}：logits 最大差异 {max_diff:.2e}，token 是否相同 {same_tokens}；"
            f"最后一步注意力分数 {full_work[-1]} 对 {cached_work[-1]}（{ratio_last:.0f} 倍）；"
            f"缓存共 {cached_numbers} 个数。"
        ),
        metrics={
            "max_abs_logit_diff": max_diff,
            "same_tokens": same_tokens,
            "full_scores_total": sum(full_work),
            "cached_scores_total": sum(cached_work),
            "last_step_ratio": ratio_last,
            "cache_numbers": cached_numbers,
            "distinct_generated_tokens": distinct_tokens,
        },
        tables=[
            Table(
                title="KV-cache size for real models (fp16, one sequence)",
                columns=["model", "layers", "kv heads", "head dim", "context", "cache GiB"],
                rows=rows,
            )
        ],
        charts=[
            Chart(
                id="logit-diff",
                title="Max |logit difference| per generated token",
                x_label="generated token",
                y_label="max |cached - full|",
                log_y=True,
                series=[Series(name="difference", x=steps, y=[max(v, 1e-18) for v in diffs])],
            ),
            Chart(
                id="work",
                title="Attention scores computed per new token",
                x_label="sequence length t",
                y_label="scores",
                series=[
                    Series(
                        name="with KV cache",
                        x=[float(t) for t in lengths[1:]],
                        y=[float(w) for w in cached_work[1:]],
                    ),
                    Series(
                        name="full recomputation",
                        x=[float(t) for t in lengths[1:]],
                        y=[float(w) for w in full_work[1:]],
                    ),
                ],
            ),
        ],
        claims=claims,
    )
