"""Training compute C = 6ND, measured on a tiny Transformer, and Chinchilla's compute-optimal split."""

# ruff: noqa: E501  (Chinese strings count double width; splitting them hurts reading)

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Training FLOPs = 6ND, and the Chinchilla-optimal model size"
DESCRIPTION = (
    "Counts the FLOPs of one training step of a small decoder-only Transformer and compares "
    "them with 6 x parameters x tokens; then uses Chinchilla's fitted loss law to find the "
    "compute-optimal split between parameters and tokens."
)
TITLE_ZH = "训练 FLOPs = 6ND，以及 Chinchilla 最优的模型大小"
DESCRIPTION_ZH = (
    "统计一个小型仅解码器 Transformer 一个训练步的 FLOPs，并与 6 x 参数量 x token 数比较；"
    "再用 Chinchilla 拟合的损失规律，找出参数量与 token 数之间计算最优的分配。"
)
CLAIMS = {
    "flops-match-6nd": (
        "With the configured context length, the counted FLOPs of a forward and backward pass "
        "are within 10% of 6 x (matmul parameters) x (tokens)."
    ),
    "chinchilla-beats-gopher": (
        "At Gopher's training compute (5.76e23 FLOPs), the fitted loss law predicts a lower loss "
        "for 70B parameters on 1.4T tokens than for 280B parameters on 300B tokens."
    ),
    "optimal-grows-both": (
        "Under the fitted law, the compute-optimal parameters and tokens both grow with the "
        "budget, each by a factor between 10^0.3 and 10^0.7 per 10x compute."
    ),
}
CLAIMS_ZH = {
    "flops-match-6nd": "在所选上下文长度下，一次前向加反向统计到的 FLOPs 与 6 x（矩阵乘参数量）x（token 数）相差不到 10%。",
    "chinchilla-beats-gopher": "在 Gopher 的训练算力（5.76e23 FLOPs）下，拟合的损失规律预测 70B 参数训练 1.4T token 的损失低于 280B 参数训练 300B token。",
    "optimal-grows-both": "按拟合的规律，计算最优的参数量和 token 数都随预算增长：算力每增加 10 倍，各自增长 10^0.3 到 10^0.7 倍。",
}
CLAIM_SHOWN_WHEN = {
    "flops-match-6nd": "context_len small compared with 6 x d_model (attention FLOPs grow with context)",
    "chinchilla-beats-gopher": "always (a property of the published fit)",
    "optimal-grows-both": "always (a property of the published fit)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "flops-match-6nd": "context_len 相对 6 x d_model 较小（注意力的 FLOPs 随上下文增长）",
    "chinchilla-beats-gopher": "总成立（公开拟合结果的性质）",
    "optimal-grows-both": "总成立（公开拟合结果的性质）",
}
TEXT_ZH = {
    "tokens D": "训练 token 数 D",
    "Compute-optimal allocation under the Chinchilla fit": "Chinchilla 拟合下的计算最优分配",
    "training compute C (FLOPs)": "训练算力 C(FLOPs)",
    "count": "数量",
    "optimal parameters N": "最优参数量 N",
    "optimal tokens D": "最优 token 数 D",
    "Loss along a fixed compute budget": "固定算力预算下的损失",
    "parameters N": "参数量 N",
    "predicted loss": "预测损失",
    "Measured training-step FLOPs": "实测的训练步 FLOPs",
    "quantity": "量",
    "value": "数值",
    "Compute-optimal models under the fit": "拟合结果下的计算最优模型",
    "compute C": "算力 C",
    "tokens per parameter": "每个参数的 token 数",
    "Model width d_model of the tiny Transformer": "小 Transformer 的宽度 d_model",
    "Transformer layers": "Transformer 层数",
    "Context length (tokens per sequence)": "上下文长度（每条序列的 token 数）",
    "Training compute budget for the loss curve, as log10(FLOPs)": "损失曲线所用的训练算力预算，取 log10(FLOPs)",
}

# Hoffmann et al. (2022), approach 3: L(N, D) = E + A / N^alpha + B / D^beta.
E_FIT, A_FIT, B_FIT, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28


class Params(BaseModel):
    d_model: int = Field(
        128, ge=32, le=512, description="Model width d_model of the tiny Transformer"
    )
    layers: int = Field(2, ge=1, le=6, description="Transformer layers")
    context_len: int = Field(16, ge=8, le=1024, description="Context length (tokens per sequence)")
    log10_compute: float = Field(
        23.76,
        ge=18.0,
        le=27.0,
        description="Training compute budget for the loss curve, as log10(FLOPs)",
    )


def _loss(n: float, d: float) -> float:
    return E_FIT + A_FIT / n**ALPHA + B_FIT / d**BETA


def _optimum(c: float) -> tuple[float, float, float]:
    """Grid search over N on the curve C = 6 N D: (N, D, loss) with the lowest loss."""
    import math

    best = (0.0, 0.0, math.inf)
    lo, hi = math.log10(c) / 2 - 6, math.log10(c) / 2 + 4
    steps = 2000
    for i in range(steps + 1):
        n = 10 ** (lo + (hi - lo) * i / steps)
        d = c / (6 * n)
        value = _loss(n, d)
        if value < best[2]:
            best = (n, d, value)
    return best


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import math

    import torch
    import torch.nn.functional as F
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    d, vocab, batch, heads = params.d_model, 256, 4, 4

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.qkv = nn.Linear(d, 3 * d, bias=False)
            self.proj = nn.Linear(d, d, bias=False)
            self.up = nn.Linear(d, 4 * d, bias=False)
            self.down = nn.Linear(4 * d, d, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, t, _ = x.shape
            q, k, v = self.qkv(F.layer_norm(x, (d,))).split(d, dim=-1)
            q, k, v = (z.view(b, t, heads, d // heads).transpose(1, 2) for z in (q, k, v))
            scores = q @ k.transpose(-1, -2) / (d // heads) ** 0.5
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            att = scores.masked_fill(~mask, float("-inf")).softmax(-1) @ v
            x = x + self.proj(att.transpose(1, 2).reshape(b, t, d))
            return x + self.down(F.gelu(self.up(F.layer_norm(x, (d,)))))

    emb = nn.Embedding(vocab, d)
    blocks = nn.Sequential(*[Block() for _ in range(params.layers)])
    head = nn.Linear(d, vocab, bias=False)
    model = nn.ModuleList([emb, blocks, head]).to(device)
    matmul_params = sum(p.numel() for m in (blocks, head) for p in m.parameters())
    tokens_cpu = torch.randint(0, vocab, (batch, params.context_len + 1))
    tokens = tokens_cpu.to(device)

    ctx.progress(0.2, "counting FLOPs of one training step")
    counter = FlopCounterMode(display=False)
    with counter:
        logits = head(blocks(emb(tokens[:, :-1])))
        loss = F.cross_entropy(logits.reshape(-1, vocab), tokens[:, 1:].reshape(-1))
        loss.backward()
    measured = float(counter.get_total_flops())
    n_tokens = batch * params.context_len
    six_nd = 6.0 * matmul_params * n_tokens
    ratio = measured / six_nd
    # Attention's own matmuls (QK^T and AV), forward + backward: 3 x 2 x 2 x t x d per token.
    attention_extra = 12.0 * params.layers * params.context_len * d * n_tokens
    del model

    ctx.progress(0.6, "Chinchilla fit")
    gopher_c = 5.76e23
    chinchilla_loss = _loss(70e9, 1.4e12)
    gopher_loss = _loss(280e9, 300e9)
    budgets = [10.0**e for e in range(19, 27)]
    optima = [_optimum(c) for c in budgets]
    n_slope = math.log10(optima[-1][0] / optima[0][0]) / (len(budgets) - 1)
    d_slope = math.log10(optima[-1][1] / optima[0][1]) / (len(budgets) - 1)
    chosen_c = 10.0**params.log10_compute
    opt_n, opt_d, opt_loss = _optimum(chosen_c)
    curve_n = [10 ** (math.log10(opt_n) + x / 10) for x in range(-15, 16)]
    curve_loss = [_loss(n, chosen_c / (6 * n)) for n in curve_n]

    ctx.progress(0.9, "summarizing")
    claims = [
        Claim(
            id="flops-match-6nd",
            text=CLAIMS["flops-match-6nd"],
            passed=bool(0.9 <= ratio <= 1.1),
            values={
                "measured_flops": measured,
                "six_n_d": six_nd,
                "ratio": ratio,
                "context_len": params.context_len,
            },
        ),
        Claim(
            id="chinchilla-beats-gopher",
            text=CLAIMS["chinchilla-beats-gopher"],
            passed=bool(chinchilla_loss < gopher_loss),
            values={"chinchilla_loss": chinchilla_loss, "gopher_loss": gopher_loss},
        ),
        Claim(
            id="optimal-grows-both",
            text=CLAIMS["optimal-grows-both"],
            passed=bool(0.3 <= n_slope <= 0.7 and 0.3 <= d_slope <= 0.7),
            values={"n_exponent": n_slope, "d_exponent": d_slope},
        ),
    ]
    opt_rows: list[list[float | int | str | bool]] = [
        [f"1e{int(math.log10(c))}", n, dd, dd / n, value]
        for c, (n, dd, value) in zip(budgets, optima, strict=True)
    ]
    return DemoResult(
        summary=(
            f"One training step: {measured:.3g} FLOPs counted vs 6ND = {six_nd:.3g} (ratio "
            f"{ratio:.3f}). Fit: at Gopher's compute, 70B/1.4T -> loss {chinchilla_loss:.3f} vs "
            f"280B/300B -> {gopher_loss:.3f}; at 10^{params.log10_compute:g} FLOPs the optimum "
            f"is {opt_n:.3g} parameters on {opt_d:.3g} tokens ({opt_d / opt_n:.0f} per parameter)."
        ),
        summary_zh=(
            f"一个训练步：统计到 {measured:.3g} FLOPs，6ND = {six_nd:.3g}（比值 {ratio:.3f}）。拟合结果："
            f"Gopher 的算力下 70B/1.4T 损失 {chinchilla_loss:.3f}，280B/300B 为 {gopher_loss:.3f}；"
            f"10^{params.log10_compute:g} FLOPs 时最优为 {opt_n:.3g} 参数、{opt_d:.3g} token"
            f"（每个参数 {opt_d / opt_n:.0f} 个 token）。"
        ),
        metrics={
            "measured_flops": measured,
            "six_n_d": six_nd,
            "ratio_to_6nd": ratio,
            "attention_flops_estimate": attention_extra,
            "chinchilla_loss": chinchilla_loss,
            "gopher_loss": gopher_loss,
            "optimal_params": opt_n,
            "optimal_tokens": opt_d,
            "optimal_tokens_per_param": opt_d / opt_n,
            "gopher_compute": gopher_c,
        },
        tables=[
            Table(
                title="Measured training-step FLOPs",
                columns=["quantity", "value"],
                rows=[
                    ["matmul parameters N", matmul_params],
                    ["tokens D", n_tokens],
                    ["counted FLOPs", measured],
                    ["6ND", six_nd],
                    ["attention matmuls, 12 L t d D", attention_extra],
                    ["6ND + attention", six_nd + attention_extra],
                ],
            ),
            Table(
                title="Compute-optimal models under the fit",
                columns=[
                    "compute C",
                    "parameters N",
                    "tokens D",
                    "tokens per parameter",
                    "predicted loss",
                ],
                rows=opt_rows,
            ),
        ],
        charts=[
            Chart(
                id="optimal",
                title="Compute-optimal allocation under the Chinchilla fit",
                x_label="training compute C (FLOPs)",
                y_label="count",
                log_y=True,
                series=[
                    Series(
                        name="optimal parameters N",
                        x=[math.log10(c) for c in budgets],
                        y=[o[0] for o in optima],
                    ),
                    Series(
                        name="optimal tokens D",
                        x=[math.log10(c) for c in budgets],
                        y=[o[1] for o in optima],
                    ),
                ],
            ),
            Chart(
                id="isoflop",
                title="Loss along a fixed compute budget",
                x_label="parameters N",
                y_label="predicted loss",
                series=[
                    Series(name="predicted loss", x=[math.log10(n) for n in curve_n], y=curve_loss)
                ],
            ),
        ],
        claims=claims,
    )
