"""Decoding by sampling: temperature, top-k and top-p (nucleus) on one next-token distribution."""

# ruff: noqa: E501  (Chinese strings count double width; splitting them hurts reading)

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Temperature, top-k and top-p sampling"
DESCRIPTION = (
    "Samples many next tokens from one language-model-like distribution with temperature, "
    "top-k and top-p (nucleus) filtering, and checks what each knob keeps."
)
TITLE_ZH = "温度、top-k 与 top-p 采样"
DESCRIPTION_ZH = (
    "对一个类似语言模型输出的下一个 token 分布，用温度、top-k 和 top-p（核采样）过滤后大量采样，"
    "检查每个旋钮保留了什么。"
)
CLAIMS = {
    "low-temperature-is-greedy": (
        "At the configured temperature every sampled token is the argmax token: sampling at "
        "T -> 0 is greedy decoding."
    ),
    "entropy-rises-with-temperature": (
        "The entropy of softmax(z / T) rises strictly with T over the sweep, from near 0 toward "
        "log(vocabulary size)."
    ),
    "top-k-keeps-k": (
        "Top-k keeps exactly the k most likely tokens, and no sample falls outside them."
    ),
    "top-p-smallest-set": (
        "With the configured rule, top-p keeps the smallest set of most likely tokens whose "
        "mass is at least p: the kept mass is >= p, and without its least likely token it is < p."
    ),
    "top-p-adapts": (
        "For the same p, the nucleus holds at least 3 times more tokens when the distribution "
        "is flat than when it is peaked, while top-k keeps k tokens in both."
    ),
}
CLAIMS_ZH = {
    "low-temperature-is-greedy": "在所选温度下，每次采样都取到 argmax 的 token：T -> 0 的采样就是贪心解码。",
    "entropy-rises-with-temperature": (
        "softmax(z / T) 的熵随 T 严格上升，从接近 0 升向 log（词表大小）。"
    ),
    "top-k-keeps-k": "top-k 正好保留概率最高的 k 个 token，没有任何样本落在它们之外。",
    "top-p-smallest-set": (
        "在所选规则下，top-p 保留概率质量至少为 p 的最小高概率 token 集合：保留的质量 >= p，"
        "去掉其中概率最小的 token 后 < p。"
    ),
    "top-p-adapts": (
        "同一个 p，分布平坦时核里的 token 数至少是分布尖锐时的 3 倍，而 top-k 两种情况都保留 k 个。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "low-temperature-is-greedy": "temperature <= 0.1",
    "entropy-rises-with-temperature": "always",
    "top-k-keeps-k": "always",
    "top-p-smallest-set": "top_p_rule = inclusive (the exclusive off-by-one drops the crossing token)",
    "top-p-adapts": "top_p between about 0.5 and 0.95",
}
CLAIM_SHOWN_WHEN_ZH = {
    "low-temperature-is-greedy": "temperature <= 0.1",
    "entropy-rises-with-temperature": "总成立",
    "top-k-keeps-k": "总成立",
    "top-p-smallest-set": "top_p_rule = inclusive（exclusive 是差一错误，会丢掉跨过 p 的那个 token）",
    "top-p-adapts": "top_p 大约在 0.5 到 0.95 之间",
}
TEXT_ZH = {
    "Entropy of softmax(z / T)": "softmax(z / T) 的熵",
    "temperature T": "温度 T",
    "entropy (nats)": "熵（nats）",
    "entropy": "熵",
    "log(vocab)": "log（词表大小）",
    "Next-token probabilities, most likely first": "下一个 token 的概率，从高到低",
    "token rank": "token 排名",
    "probability": "概率",
    "at T = 1": "T = 1 时",
    "at the configured T": "所选温度下",
    "What each filter keeps": "每种过滤保留了什么",
    "filter": "过滤方式",
    "tokens kept": "保留的 token 数",
    "mass kept": "保留的概率质量",
    "distinct tokens sampled": "采到的不同 token 数",
    "Sampling temperature T": "采样温度 T",
    "k of top-k": "top-k 的 k",
    "p of top-p": "top-p 的 p",
    "Top-p rule: inclusive keeps the token that crosses p; exclusive (a common off-by-one) "
    "drops it": "top-p 规则：inclusive 保留跨过 p 的那个 token；exclusive（常见的差一错误）把它丢掉",
    "Samples drawn per setting": "每种设置的采样次数",
}


class Params(BaseModel):
    temperature: float = Field(0.05, ge=0.01, le=5.0, description="Sampling temperature T")
    top_k: int = Field(10, ge=1, le=64, description="k of top-k")
    top_p: float = Field(0.9, ge=0.05, le=1.0, description="p of top-p")
    top_p_rule: Literal["inclusive", "exclusive"] = Field(
        "inclusive",
        description=(
            "Top-p rule: inclusive keeps the token that crosses p; exclusive (a common "
            "off-by-one) drops it"
        ),
    )
    samples: int = Field(5000, ge=100, le=50000, description="Samples drawn per setting")


VOCAB = 64


def _nucleus(probs_sorted: list[float], p: float, rule: str) -> int:
    """How many of the sorted tokens top-p keeps."""
    total = 0.0
    for i, q in enumerate(probs_sorted):
        total += q
        if total >= p:
            return i + 1 if rule == "inclusive" else max(i, 1)
    return len(probs_sorted)


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import math

    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    # Zipf-like logits, as a language model's next-token distribution tends to be.
    ranks = torch.arange(1, VOCAB + 1, dtype=torch.float64)
    logits_cpu = -1.1 * ranks.log() * 2.0 + 0.3 * torch.randn(VOCAB, dtype=torch.float64)
    logits = logits_cpu.to(device)
    gen = torch.Generator().manual_seed(ctx.seed)

    def sample(probs: torch.Tensor) -> torch.Tensor:
        return torch.multinomial(probs.cpu(), params.samples, replacement=True, generator=gen)

    argmax = int(logits.argmax())
    p_t = torch.softmax(logits / params.temperature, dim=-1)
    draws_t = sample(p_t)
    greedy_share = float((draws_t == argmax).double().mean())

    temps = [0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0]
    entropies = []
    for t in temps:
        p = torch.softmax(logits / t, dim=-1)
        entropies.append(float(-(p * p.clamp_min(1e-300).log()).sum()))
    rising = all(b > a for a, b in zip(entropies, entropies[1:], strict=False))

    ctx.progress(0.4, "top-k and top-p")
    probs = torch.softmax(logits, dim=-1)
    order = torch.argsort(probs, descending=True)
    sorted_probs = probs[order].tolist()

    top_k_set = set(order[: params.top_k].tolist())
    filtered_k = torch.zeros_like(probs)
    filtered_k[order[: params.top_k]] = probs[order[: params.top_k]]
    draws_k = sample(filtered_k / filtered_k.sum())
    k_kept = int((filtered_k > 0).sum())
    k_ok = k_kept == params.top_k and set(draws_k.tolist()) <= top_k_set

    n_keep = _nucleus(sorted_probs, params.top_p, params.top_p_rule)
    kept_mass = sum(sorted_probs[:n_keep])
    without_last = kept_mass - sorted_probs[n_keep - 1]
    filtered_p = torch.zeros_like(probs)
    filtered_p[order[:n_keep]] = probs[order[:n_keep]]
    draws_p = sample(filtered_p / filtered_p.sum())
    p_ok = (
        kept_mass >= params.top_p - 1e-12
        and (n_keep == 1 or without_last < params.top_p)
        and set(draws_p.tolist()) <= set(order[:n_keep].tolist())
    )

    # Same p on a peaked and a flat version of the distribution.
    def nucleus_size(scale: float) -> int:
        q = torch.softmax(logits * scale, dim=-1).sort(descending=True).values.tolist()
        return _nucleus(q, params.top_p, params.top_p_rule)

    peaked, flat = nucleus_size(2.0), nucleus_size(0.35)
    adapts = flat >= 3 * peaked

    ctx.progress(0.9, "summarizing")
    claims = [
        Claim(
            id="low-temperature-is-greedy",
            text=CLAIMS["low-temperature-is-greedy"],
            passed=bool(greedy_share == 1.0),
            values={"temperature": params.temperature, "share_argmax": greedy_share},
        ),
        Claim(
            id="entropy-rises-with-temperature",
            text=CLAIMS["entropy-rises-with-temperature"],
            passed=bool(rising and entropies[0] < 0.1 * math.log(VOCAB)),
            values={
                "entropy_at_lowest_t": entropies[0],
                "entropy_at_highest_t": entropies[-1],
                "log_vocab": math.log(VOCAB),
            },
        ),
        Claim(
            id="top-k-keeps-k",
            text=CLAIMS["top-k-keeps-k"],
            passed=bool(k_ok),
            values={
                "k": params.top_k,
                "kept": k_kept,
                "distinct_sampled": len(set(draws_k.tolist())),
            },
        ),
        Claim(
            id="top-p-smallest-set",
            text=CLAIMS["top-p-smallest-set"],
            passed=bool(p_ok),
            values={
                "p": params.top_p,
                "kept_tokens": n_keep,
                "kept_mass": kept_mass,
                "mass_without_last": without_last,
            },
        ),
        Claim(
            id="top-p-adapts",
            text=CLAIMS["top-p-adapts"],
            passed=bool(adapts),
            values={"nucleus_peaked": peaked, "nucleus_flat": flat, "top_k": params.top_k},
        ),
    ]
    shown = min(VOCAB, 24)
    return DemoResult(
        summary=(
            f"T = {params.temperature}: {greedy_share:.1%} of samples are the argmax; top-k "
            f"keeps {k_kept} tokens; top-p = {params.top_p} keeps {n_keep} tokens with mass "
            f"{kept_mass:.3f}; nucleus {peaked} tokens when peaked, {flat} when flat."
        ),
        summary_zh=(
            f"T = {params.temperature}：{greedy_share:.1%} 的样本是 argmax；top-k 保留 {k_kept} 个 "
            f"token；top-p = {params.top_p} 保留 {n_keep} 个，概率质量 {kept_mass:.3f}；"
            f"分布尖锐时核里 {peaked} 个 token，平坦时 {flat} 个。"
        ),
        metrics={
            "share_argmax": greedy_share,
            "top_k_kept": k_kept,
            "top_p_kept": n_keep,
            "top_p_mass": kept_mass,
            "nucleus_peaked": peaked,
            "nucleus_flat": flat,
            "top1_probability": sorted_probs[0],
        },
        tables=[
            Table(
                title="What each filter keeps",
                columns=["filter", "tokens kept", "mass kept", "distinct tokens sampled"],
                rows=[
                    [f"T = {params.temperature}", VOCAB, 1.0, len(set(draws_t.tolist()))],
                    [
                        f"top-k = {params.top_k}",
                        k_kept,
                        sum(sorted_probs[: params.top_k]),
                        len(set(draws_k.tolist())),
                    ],
                    [f"top-p = {params.top_p}", n_keep, kept_mass, len(set(draws_p.tolist()))],
                ],
            )
        ],
        charts=[
            Chart(
                id="entropy",
                title="Entropy of softmax(z / T)",
                x_label="temperature T",
                y_label="entropy (nats)",
                series=[
                    Series(name="entropy", x=temps, y=entropies),
                    Series(name="log(vocab)", x=temps, y=[math.log(VOCAB)] * len(temps)),
                ],
            ),
            Chart(
                id="probs",
                title="Next-token probabilities, most likely first",
                kind="bar",
                x_label="token rank",
                y_label="probability",
                categories=[str(i + 1) for i in range(shown)],
                series=[
                    Series(
                        name="at T = 1",
                        x=[float(i) for i in range(shown)],
                        y=sorted_probs[:shown],
                    ),
                    Series(
                        name="at the configured T",
                        x=[float(i) for i in range(shown)],
                        y=p_t.sort(descending=True).values[:shown].tolist(),
                    ),
                ],
            ),
        ],
        claims=claims,
    )
