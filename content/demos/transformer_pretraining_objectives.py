"""Causal LM, masked LM and span corruption built on one token sequence: what each supervises."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Pre-training objectives: causal LM, masked LM, span corruption"
TITLE_ZH = "预训练目标：因果语言模型、掩码语言模型、span corruption"
DESCRIPTION = (
    "Builds GPT-style next-token targets, BERT-style masked-LM examples (80/10/10) and T5-style "
    "span corruption from the same random token sequence, and counts how many positions each "
    "one trains on and how long its inputs and targets are."
)
DESCRIPTION_ZH = (
    "在同一条随机 token 序列上构造 GPT 式的下一个 token 目标、BERT 式的掩码语言模型样本"
    "（80/10/10）和 T5 式的 span corruption，统计各自训练多少个位置、输入和目标有多长。"
)
CLAIMS = {
    "causal-lm-supervises-every-position": (
        "Causal LM gives a training target at n - 1 of n positions, one forward pass for all."
    ),
    "causal-targets-not-visible": (
        "With the chosen target alignment, no position's target is among the tokens it may "
        "attend to under the causal mask."
    ),
    "mlm-supervises-mask-rate": (
        "Masked LM trains only on the selected positions: their share is within 2 points of the "
        "mask rate, split about 80% [MASK], 10% random, 10% unchanged."
    ),
    "span-corruption-reconstructs": (
        "T5 span corruption shortens the input, its target holds only the dropped spans plus "
        "sentinels, and putting the spans back at the sentinels restores the original exactly."
    ),
}
CLAIMS_ZH = {
    "causal-lm-supervises-every-position": (
        "因果语言模型在 n 个位置中的 n - 1 个上有训练目标，一次前向全部算完。"
    ),
    "causal-targets-not-visible": (
        "在所选的目标对齐方式下，任何位置的目标都不在因果掩码允许它看到的 token 之中。"
    ),
    "mlm-supervises-mask-rate": (
        "掩码语言模型只在被选中的位置上训练：占比与掩码率相差不超过 2 个百分点，"
        "其中约 80% 换成 [MASK]、10% 换成随机 token、10% 不变。"
    ),
    "span-corruption-reconstructs": (
        "T5 的 span corruption 让输入变短，目标只包含被删掉的片段和哨兵符号，"
        "把片段放回哨兵处能精确还原原序列。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "causal-lm-supervises-every-position": "always: it does not depend on the parameters",
    "span-corruption-reconstructs": (
        "mean_span >= 2 (with one-token spans the input is not shortened)"
    ),
    "causal-targets-not-visible": "shift_targets on",
    "mlm-supervises-mask-rate": "seq_len >= 256 (enough masked positions for the 80/10/10 split)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "causal-lm-supervises-every-position": "总成立：与参数无关",
    "span-corruption-reconstructs": "mean_span >= 2（span 只有一个 token 时输入不会变短）",
    "causal-targets-not-visible": "开启 shift_targets 时",
    "mlm-supervises-mask-rate": "seq_len >= 256 时（被掩码的位置足够多，80/10/10 比例才稳定）",
}
TEXT_ZH = {
    "Positions that receive a loss": "产生 loss 的位置数",
    "objective": "目标",
    "positions": "位置数",
    "causal LM": "因果语言模型",
    "masked LM": "掩码语言模型",
    "span corruption": "span corruption",
    "supervised positions": "有监督的位置",
    "Lengths per objective": "各目标的长度",
    "input length": "输入长度",
    "target length": "目标长度",
    "supervised share": "有监督占比",
    "Sequence length n": "序列长度 n",
    "Share of tokens masked or corrupted": "被掩码或破坏的 token 比例",
    "Mean span length for span corruption": "span corruption 的平均片段长度",
    "Shift targets by one (predict the next token)": "目标右移一位（预测下一个 token）",
}

VOCAB = 1000
MASK, SENTINEL0 = VOCAB, VOCAB + 1  # special ids above the vocabulary


class Params(BaseModel):
    seq_len: int = Field(512, ge=32, le=4096, description="Sequence length n")
    mask_rate: float = Field(
        0.15, ge=0.05, le=0.5, description="Share of tokens masked or corrupted"
    )
    mean_span: int = Field(3, ge=1, le=10, description="Mean span length for span corruption")
    shift_targets: bool = Field(True, description="Shift targets by one (predict the next token)")


def _spans(n: int, rate: float, mean_span: int, gen) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Non-overlapping [start, end) spans covering about rate * n tokens."""
    import torch

    budget = max(1, round(rate * n))
    n_spans = max(1, round(budget / mean_span))
    starts = sorted(torch.randperm(n - mean_span, generator=gen)[: n_spans * 3].tolist())
    spans: list[tuple[int, int]] = []
    covered = 0
    for s in starts:
        if covered >= budget or len(spans) >= n_spans:
            break
        if spans and s <= spans[-1][1]:  # keep a gap so sentinels separate spans
            continue
        length = min(mean_span, budget - covered)
        spans.append((s, s + length))
        covered += length
    return spans


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    gen = torch.Generator().manual_seed(ctx.seed)
    n = params.seq_len
    tokens = torch.randint(0, VOCAB, (n,), generator=gen).tolist()

    # Causal LM: position t predicts tokens[t + 1] (shifted) or tokens[t] (unshifted, a leak).
    offset = 1 if params.shift_targets else 0
    targets = [(t, t + offset) for t in range(n - offset)]  # (position, index of its target)
    clm_share = len(targets) / n
    # Under the causal mask position t sees indices 0..t.
    leaks = sum(1 for pos, tgt in targets if tgt <= pos)

    # Masked LM (BERT): select mask_rate of positions; 80% [MASK], 10% random, 10% unchanged.
    selected = torch.randperm(n, generator=gen)[: round(params.mask_rate * n)].tolist()
    roll = torch.rand(len(selected), generator=gen).tolist()
    mlm_input = list(tokens)
    kinds = {"mask": 0, "random": 0, "same": 0}
    for pos, r in zip(selected, roll, strict=True):
        if r < 0.8:
            mlm_input[pos], kind = MASK, "mask"
        elif r < 0.9:
            mlm_input[pos] = int(torch.randint(0, VOCAB, (1,), generator=gen))
            kind = "random"
        else:
            kind = "same"
        kinds[kind] += 1
    mlm_share = len(selected) / n
    split = {k: v / max(1, len(selected)) for k, v in kinds.items()}
    split_ok = abs(split["mask"] - 0.8) < 0.08 and abs(split["random"] - 0.1) < 0.06

    # Span corruption (T5): each span becomes one sentinel in the input; the target lists
    # sentinel, span, sentinel, span, ..., final sentinel.
    spans = _spans(n, params.mask_rate, params.mean_span, gen)
    t5_input: list[int] = []
    t5_target: list[int] = []
    cursor = 0
    for i, (s, e) in enumerate(spans):
        t5_input += tokens[cursor:s] + [SENTINEL0 + i]
        t5_target += [SENTINEL0 + i] + tokens[s:e]
        cursor = e
    t5_input += tokens[cursor:]
    t5_target += [SENTINEL0 + len(spans)]
    # Reconstruct: replace each sentinel in the input by the span that follows it in the target.
    fill: dict[int, list[int]] = {}
    current = None
    for tok in t5_target:
        if tok >= SENTINEL0:
            current = tok
            fill[current] = []
        elif current is not None:
            fill[current].append(tok)
    rebuilt: list[int] = []
    for tok in t5_input:
        rebuilt += fill[tok] if tok >= SENTINEL0 else [tok]
    corrupted = sum(e - s for s, e in spans)
    span_ok = (
        rebuilt == tokens and len(t5_input) < n and len(t5_target) == corrupted + len(spans) + 1
    )
    ctx.progress(0.9, "summarizing")

    names = ["causal LM", "masked LM", "span corruption"]
    supervised = [len(targets), len(selected), len(t5_target)]
    chart = Chart(
        id="supervised",
        title="Positions that receive a loss",
        kind="bar",
        x_label="objective",
        y_label="positions",
        categories=names,
        series=[
            Series(
                name="supervised positions",
                x=[0.0, 1.0, 2.0],
                y=[float(v) for v in supervised],
            )
        ],
    )
    table = Table(
        title="Lengths per objective",
        columns=["objective", "input length", "target length", "supervised share"],
        rows=[
            ["causal LM", n - offset, len(targets), clm_share],
            ["masked LM", n, len(selected), mlm_share],
            ["span corruption", len(t5_input), len(t5_target), corrupted / n],
        ],
    )
    claims = [
        Claim(
            id="causal-lm-supervises-every-position",
            text=CLAIMS["causal-lm-supervises-every-position"],
            passed=bool(len(targets) >= n - 1),
            values={"supervised": len(targets), "n": n},
        ),
        Claim(
            id="causal-targets-not-visible",
            text=CLAIMS["causal-targets-not-visible"],
            passed=bool(leaks == 0),
            values={"positions_that_see_their_target": leaks},
        ),
        Claim(
            id="mlm-supervises-mask-rate",
            text=CLAIMS["mlm-supervises-mask-rate"],
            passed=bool(abs(mlm_share - params.mask_rate) <= 0.02 and split_ok),
            values={
                "supervised_share": mlm_share,
                "mask_share": split["mask"],
                "random_share": split["random"],
                "unchanged_share": split["same"],
            },
        ),
        Claim(
            id="span-corruption-reconstructs",
            text=CLAIMS["span-corruption-reconstructs"],
            passed=bool(span_ok),
            values={
                "input_length": len(t5_input),
                "target_length": len(t5_target),
                "spans": len(spans),
                "corrupted_tokens": corrupted,
            },
        ),
    ]
    return DemoResult(
        summary=(
            f"n={n}: causal LM trains on {len(targets)} positions, masked LM on "
            f"{len(selected)} ({mlm_share:.1%}), span corruption turns {corrupted} tokens in "
            f"{len(spans)} spans into an input of {len(t5_input)} and a target of {len(t5_target)}."
        ),
        summary_zh=(
            f"n={n}：因果语言模型在 {len(targets)} 个位置上训练，掩码语言模型在 {len(selected)} 个"
            f"（{mlm_share:.1%}）；span corruption 把 {len(spans)} 个片段共 {corrupted} 个 token "
            f"变成长 {len(t5_input)} 的输入和长 {len(t5_target)} 的目标。"
        ),
        metrics={
            "causal_supervised": len(targets),
            "mlm_supervised": len(selected),
            "t5_input_length": len(t5_input),
            "t5_target_length": len(t5_target),
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
