"""Speculative decoding: a draft model proposes, the target model accepts or corrects."""

# ruff: noqa: E501  (Chinese strings count double width; splitting them hurts reading)

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Speculative decoding keeps the target distribution"
DESCRIPTION = (
    "Runs many speculative-decoding chains with a bigram target and a noisier bigram draft, "
    "and compares the distribution of the generated tokens with sampling the target directly, "
    "the acceptance rate with sum(min(p, q)), and the tokens produced per target pass."
)
TITLE_ZH = "投机解码保持目标分布不变"
DESCRIPTION_ZH = (
    "用一个二元目标模型和一个更嘈杂的二元草稿模型并行跑大量投机解码链，把生成 token 的分布与直接从目标模型采样比较，"
    "把接受率与 sum(min(p， q))比较，并统计每次目标模型前向产出的 token 数。"
)
CLAIMS = {
    "output-matches-target": (
        "With the configured rule, the joint distribution of the first two generated tokens "
        "matches the target model's (total variation within 2.5 times its sampling noise)."
    ),
    "acceptance-is-overlap": (
        "The measured acceptance rate of the first draft token equals sum_x min(p(x), q(x)) = "
        "1 - TV(p, q) within 0.02."
    ),
    "fewer-target-passes": (
        "Each target forward pass yields at least 1.5 tokens on average, so decoding needs fewer "
        "sequential target passes than tokens."
    ),
}
CLAIMS_ZH = {
    "output-matches-target": "在所选规则下，前两个生成 token 的联合分布与目标模型一致（全变差距离在采样噪声的 2.5 倍以内）。",
    "acceptance-is-overlap": "第一个草稿 token 的实测接受率等于 sum_x min(p(x)， q(x))= 1 - TV(p， q)，误差在 0.02 以内。",
    "fewer-target-passes": "目标模型每次前向平均产出至少 1.5 个 token，所以所需的串行目标前向次数少于 token 数。",
}
CLAIM_SHOWN_WHEN = {
    "output-matches-target": "rule = exact (accept-all and resample-from-target are biased)",
    "acceptance-is-overlap": "rule = exact or resample-from-target",
    "fewer-target-passes": "draft_noise <= 0.6 and draft_tokens >= 2",
}
CLAIM_SHOWN_WHEN_ZH = {
    "output-matches-target": "rule = exact（accept-all 和 resample-from-target 都有偏）",
    "acceptance-is-overlap": "rule = exact 或 resample-from-target",
    "fewer-target-passes": "draft_noise <= 0.6 且 draft_tokens >= 2",
}
TEXT_ZH = {
    "Distribution of the first generated token": "第一个生成 token 的分布",
    "token": "token",
    "probability": "概率",
    "target p": "目标 p",
    "draft q": "草稿 q",
    "speculative output": "投机解码输出",
    "What one speculative round costs and yields": "一轮投机解码的代价与产出",
    "quantity": "量",
    "measured": "实测",
    "expected": "理论值",
    "Acceptance rule: exact (accept with min(1, p/q), on rejection resample from max(0, p - q)); accept-all (keep every draft token); resample-from-target (on rejection sample p instead of the residual)": (
        "接受规则：exact（以 min(1， p/q)接受，拒绝时从 max(0， p - q)重采样）；accept-all（草稿 token 全部接受）；"
        "resample-from-target（拒绝时从 p 而不是残差分布采样）"
    ),
    "Draft tokens proposed per round (gamma)": "每轮草稿 token 数（gamma）",
    "How far the draft is from the target: q = (1 - noise) p + noise r, r random": (
        "草稿与目标的差距：q = （1 - noise） p + noise r，r 为随机分布"
    ),
    "Vocabulary size": "词表大小",
    "acceptance of the first draft token": "第一个草稿 token 的接受率",
    "tokens per target pass (iid approximation)": "每次目标前向的 token 数（独立同分布近似）",
    "total variation to the target (2 tokens)": "与目标分布的全变差（前 2 个 token）",
    "Parallel chains (samples)": "并行链数（样本数）",
}


class Params(BaseModel):
    rule: Literal["exact", "accept-all", "resample-from-target"] = Field(
        "exact",
        description=(
            "Acceptance rule: exact (accept with min(1, p/q), on rejection resample from "
            "max(0, p - q)); accept-all (keep every draft token); resample-from-target (on "
            "rejection sample p instead of the residual)"
        ),
    )
    draft_tokens: int = Field(4, ge=1, le=8, description="Draft tokens proposed per round (gamma)")
    draft_noise: float = Field(
        0.4,
        ge=0.0,
        le=1.0,
        description="How far the draft is from the target: q = (1 - noise) p + noise r, r random",
    )
    vocab: int = Field(6, ge=2, le=16, description="Vocabulary size")
    chains: int = Field(40000, ge=2000, le=200000, description="Parallel chains (samples)")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import math

    import torch

    torch.manual_seed(ctx.seed)
    v, n, gamma = params.vocab, params.chains, params.draft_tokens
    dirichlet = torch.distributions.Dirichlet(torch.full((v, v), 0.5, dtype=torch.float64))
    p = dirichlet.sample()  # target p[context, next]
    r = dirichlet.sample()
    q = (1 - params.draft_noise) * p + params.draft_noise * r  # draft

    def sample_rows(probs: torch.Tensor) -> torch.Tensor:
        return torch.multinomial(probs, 1).squeeze(1)

    ctx.progress(0.1, "speculative rounds")
    last = torch.zeros(n, dtype=torch.long)  # every chain starts after token 0
    first_two = torch.full((n, 2), -1, dtype=torch.long)
    filled = torch.zeros(n, dtype=torch.long)
    produced = torch.zeros(n, dtype=torch.long)
    rounds = 3
    first_accept = None
    for rnd in range(rounds):
        ctxs, drafts, accepts = [last], [], []
        for _ in range(gamma):
            c = ctxs[-1]
            x = sample_rows(q[c])
            ratio = p[c, x] / q[c, x]
            if params.rule == "accept-all":
                acc = torch.ones(n, dtype=torch.bool)
            else:
                acc = torch.rand(n, dtype=torch.float64) < ratio.clamp(max=1.0)
            drafts.append(x)
            accepts.append(acc)
            ctxs.append(x)
        if rnd == 0:
            first_accept = float(accepts[0].double().mean())
        acc_mat = torch.stack(accepts, dim=1).long()
        n_acc = acc_mat.cumprod(dim=1).sum(dim=1)  # leading accepted drafts
        # The token after the accepted prefix: a correction on rejection, a bonus otherwise.
        c_fix = torch.stack(ctxs, dim=1).gather(1, n_acc[:, None]).squeeze(1)
        if params.rule == "exact":
            residual = (p[c_fix] - q[c_fix]).clamp(min=0)
            # If p == q on this row nothing is ever rejected; fall back to p to stay defined.
            residual = torch.where(residual.sum(1, keepdim=True) > 0, residual, p[c_fix])
        else:
            residual = p[c_fix]
        rejected = n_acc < gamma
        fix = torch.where(rejected, sample_rows(residual), sample_rows(p[c_fix]))
        tokens = torch.cat([torch.stack(drafts, dim=1), fix[:, None]], dim=1)
        # Token k of this round is emitted if k < n_acc (an accepted draft) or k == n_acc.
        for k in range(gamma + 1):
            emitted = k <= n_acc
            tok = torch.where(k == n_acc, fix, tokens[:, k])
            take = emitted & (filled < 2)
            rows = take.nonzero().squeeze(1)
            first_two[rows, filled[rows]] = tok[rows]
            filled += take.long()
        produced += n_acc + 1
        last = fix

    ctx.progress(0.7, "comparing distributions")
    joint_target = (p[0][:, None] * p).flatten()
    idx = first_two[:, 0] * v + first_two[:, 1]
    joint_emp = torch.bincount(idx, minlength=v * v).double() / n
    tv = 0.5 * float((joint_emp - joint_target).abs().sum())
    # Expected TV of an exact sampler of n draws: sum_i sqrt(p_i (1 - p_i) / n) * sqrt(2/pi) / 2.
    noise = (
        0.5 * math.sqrt(2 / math.pi) * float((joint_target * (1 - joint_target) / n).sqrt().sum())
    )
    overlap = float(torch.minimum(p[0], q[0]).sum())
    assert first_accept is not None
    tokens_per_pass = float(produced.double().mean()) / rounds
    alpha = overlap
    expected_per_pass = (1 - alpha ** (gamma + 1)) / (1 - alpha) if alpha < 1 else float(gamma + 1)

    first_emp = torch.bincount(first_two[:, 0], minlength=v).double() / n
    ctx.progress(0.9, "summarizing")
    claims = [
        Claim(
            id="output-matches-target",
            text=CLAIMS["output-matches-target"],
            passed=bool(tv <= 2.5 * noise),
            values={"total_variation": tv, "sampling_noise": noise, "rule": params.rule},
        ),
        Claim(
            id="acceptance-is-overlap",
            text=CLAIMS["acceptance-is-overlap"],
            passed=bool(abs(first_accept - overlap) <= 0.02),
            values={"measured_acceptance": first_accept, "sum_min_p_q": overlap},
        ),
        Claim(
            id="fewer-target-passes",
            text=CLAIMS["fewer-target-passes"],
            passed=bool(tokens_per_pass >= 1.5),
            values={"tokens_per_target_pass": tokens_per_pass, "draft_tokens": gamma},
        ),
    ]
    xs = [float(i) for i in range(v)]
    return DemoResult(
        summary=(
            f"Rule {params.rule}: total variation to the target {tv:.4f} (sampling noise "
            f"{noise:.4f}); acceptance {first_accept:.3f} vs sum min(p, q) = {overlap:.3f}; "
            f"{tokens_per_pass:.2f} tokens per target pass with {gamma} draft tokens."
        ),
        summary_zh=(
            f"规则 {params.rule}：与目标分布的全变差 {tv:.4f}（采样噪声 {noise:.4f}）；接受率 "
            f"{first_accept:.3f}，sum min(p， q) = {overlap:.3f}；每轮草稿 {gamma} 个 token 时，"
            f"目标模型每次前向产出 {tokens_per_pass:.2f} 个 token。"
        ),
        metrics={
            "total_variation": tv,
            "sampling_noise": noise,
            "acceptance": first_accept,
            "sum_min_p_q": overlap,
            "tokens_per_target_pass": tokens_per_pass,
        },
        tables=[
            Table(
                title="What one speculative round costs and yields",
                columns=["quantity", "measured", "expected"],
                rows=[
                    ["acceptance of the first draft token", first_accept, overlap],
                    [
                        "tokens per target pass (iid approximation)",
                        tokens_per_pass,
                        expected_per_pass,
                    ],
                    ["total variation to the target (2 tokens)", tv, noise],
                ],
            )
        ],
        charts=[
            Chart(
                id="first-token",
                title="Distribution of the first generated token",
                kind="bar",
                x_label="token",
                y_label="probability",
                categories=[str(i) for i in range(v)],
                series=[
                    Series(name="target p", x=xs, y=p[0].tolist()),
                    Series(name="draft q", x=xs, y=q[0].tolist()),
                    Series(name="speculative output", x=xs, y=first_emp.tolist()),
                ],
            )
        ],
        claims=claims,
    )
