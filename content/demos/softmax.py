"""Softmax: shift invariance and overflow, temperature, the cross-entropy gradient, attention."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Softmax in practice"
DESCRIPTION = (
    "Computes softmax naively and stably on shifted logits, varies the temperature, checks the "
    "cross-entropy gradient against p - y, and measures how peaked attention weights get."
)
CLAIMS = {
    "softmax-shift-invariant": (
        "With the configured implementation, softmax(z + c) equals softmax(z) for the configured "
        "shift c, computed in float64 (max difference below 1e-9, no overflow)."
    ),
    "temperature-sharpens": (
        "At the configured temperature the distribution softmax(z / T) is sharper than at T = 1: "
        "lower entropy and a larger top probability."
    ),
    "ce-gradient-is-p-minus-y": (
        "With the configured label smoothing, the gradient of the mean cross-entropy with "
        "respect to the logits is (softmax(z) - onehot(y)) / N (max difference below 1e-6)."
    ),
    "unscaled-attention-saturates": (
        "With the configured head dimension d, attention softmax(q k^T) without the 1/sqrt(d) "
        "scale puts on average over 0.75 of its weight on one key, while the scaled version stays "
        "below 0.5."
    ),
}
TITLE_ZH = "实践中的 softmax"
DESCRIPTION_ZH = (
    "在平移后的 logits 上朴素地和稳定地计算 softmax，改变温度，检查交叉熵梯度是否等于 p - y，并测"
    "量注意力权重有多尖锐。"
)
CLAIMS_ZH = {
    "softmax-shift-invariant": (
        "在所设实现下，对所设平移 c，softmax(z + c) 等于 softmax(z)，用 float64 计算（最大差小于 "
        "1e-9，无溢出）。"
    ),
    "temperature-sharpens": (
        "在所设温度下，分布 softmax(z / T) 比 T = 1 时更尖锐：熵更低，最大概率更大。"
    ),
    "ce-gradient-is-p-minus-y": (
        "在所设标签平滑下，平均交叉熵对 logits 的梯度为 (softmax(z) - onehot(y)) / N（最大差小于 "
        "1e-6）。"
    ),
    "unscaled-attention-saturates": (
        "在所设头维度 d 下，不带 1/sqrt(d) 缩放的注意力 softmax(q k^T) 平均把超过 0.75 的权重放在"
        "一个键上，而缩放后的版本低于 0.5。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "softmax-shift-invariant": (
        "implementation stable (naive overflows once the shift passes about 700)"
    ),
    "temperature-sharpens": "temperature < 1 (the default 0.5)",
    "ce-gradient-is-p-minus-y": "label_smoothing 0 (the default)",
    "unscaled-attention-saturates": "head_dim >= 32 (the default 64)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "softmax-shift-invariant": "implementation 为 stable（偏移超过约 700 时 naive 会溢出）",
    "temperature-sharpens": "temperature < 1（默认 0.5）",
    "ce-gradient-is-p-minus-y": "label_smoothing 为 0（默认）",
    "unscaled-attention-saturates": "head_dim >= 32（默认 64）",
}
TEXT_ZH = {
    "Number of logits per example": "每个样本的 logit 数",
    "Constant c added to every logit": "加到每个 logit 上的常数 c",
    "stable: subtract max(z) before exp (what torch.softmax does); naive: exp(z) / sum exp(z)": (
        "stable：先减去 max(z) 再取 exp（torch.softmax 的做法）；naive：exp(z) / sum exp(z)"
    ),
    "Temperature T in softmax(z / T)": "softmax(z / T) 中的温度 T",
    "Label smoothing of the cross-entropy": "交叉熵的标签平滑",
    "Query/key dimension d of the attention example": "注意力例子中 query/key 的维度 d",
    "First example: logits and probabilities": "第一个样本：logit 和概率",
    "class": "类别",
    "logit": "logit",
    "softmax": "softmax",
    "Entropy of softmax(z / T)": "softmax(z / T) 的熵",
    "temperature T": "温度 T",
    "entropy (nats)": "熵（nats）",
    "One example's probabilities": "一个样本的概率",
    "probability": "概率",
    "entropy": "熵",
    "T = 1": "T = 1",
}


class Params(BaseModel):
    n_classes: int = Field(5, ge=2, le=50, description="Number of logits per example")
    logit_shift: float = Field(
        1000.0, ge=0.0, le=2000.0, description="Constant c added to every logit"
    )
    implementation: Literal["stable", "naive"] = Field(
        "stable",
        description=(
            "stable: subtract max(z) before exp (what torch.softmax does); naive: exp(z) / "
            "sum exp(z)"
        ),
    )
    temperature: float = Field(0.5, ge=0.05, le=10.0, description="Temperature T in softmax(z / T)")
    label_smoothing: float = Field(
        0.0, ge=0.0, le=0.5, description="Label smoothing of the cross-entropy"
    )
    head_dim: int = Field(
        64, ge=1, le=512, description="Query/key dimension d of the attention example"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    import torch.nn.functional as F

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)

    def softmax(z: torch.Tensor) -> torch.Tensor:
        if params.implementation == "stable":
            e = torch.exp(z - z.max(dim=-1, keepdim=True).values)
        else:
            e = torch.exp(z)
        return e / e.sum(dim=-1, keepdim=True)

    ctx.progress(0.2, "shift invariance")
    n = 64
    z64 = torch.randn(n, params.n_classes, dtype=torch.float64).to(device) * 2
    # float64 so rounding z + c cannot hide the effect; exp overflows above ~709 (~88 in float32).
    p = softmax(z64)
    p_shift = softmax(z64 + params.logit_shift)
    finite = bool(torch.isfinite(p_shift).all())
    shift_gap = float((p_shift - p).abs().max().item()) if finite else float("inf")
    shift_ok = finite and shift_gap < 1e-9
    z = z64.float()

    ctx.progress(0.4, "temperature")

    def entropy(q: torch.Tensor) -> float:
        return float(-(q * torch.log(q.clamp_min(1e-30))).sum(-1).mean().item())

    p1 = torch.softmax(z, dim=-1)
    pt = torch.softmax(z / params.temperature, dim=-1)
    h1, ht = entropy(p1), entropy(pt)
    top1, topt = float(p1.max(-1).values.mean().item()), float(pt.max(-1).values.mean().item())
    temps = [0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0]
    temp_entropy = [entropy(torch.softmax(z / t, dim=-1)) for t in temps]

    ctx.progress(0.6, "cross-entropy gradient")
    y = torch.randint(0, params.n_classes, (n,)).to(device)
    zz = z.clone().requires_grad_(True)
    loss = F.cross_entropy(zz, y, label_smoothing=params.label_smoothing)
    (g,) = torch.autograd.grad(loss, zz)
    expected = (torch.softmax(z, -1) - F.one_hot(y, params.n_classes).float()) / n
    ce_gap = float((g - expected).abs().max().item())

    ctx.progress(0.8, "attention")
    seq = 16
    q = torch.randn(32, seq, params.head_dim).to(device)
    k = torch.randn(32, seq, params.head_dim).to(device)
    raw = q @ k.transpose(-1, -2)
    top_unscaled = float(torch.softmax(raw, -1).max(-1).values.mean().item())
    top_scaled = float(torch.softmax(raw / params.head_dim**0.5, -1).max(-1).values.mean().item())

    example = z[0]
    charts = [
        Chart(
            id="temperature",
            title="Entropy of softmax(z / T)",
            x_label="temperature T",
            y_label="entropy (nats)",
            series=[Series(name="entropy", x=temps, y=temp_entropy)],
        ),
        Chart(
            id="example",
            title="One example's probabilities",
            kind="bar",
            categories=[f"class {i}" for i in range(params.n_classes)],
            y_label="probability",
            series=[
                Series(
                    name="T = 1",
                    x=[float(i) for i in range(params.n_classes)],
                    y=[float(v) for v in torch.softmax(example, -1).tolist()],
                ),
                Series(
                    name=f"T = {params.temperature:g}",
                    x=[float(i) for i in range(params.n_classes)],
                    y=[float(v) for v in torch.softmax(example / params.temperature, -1).tolist()],
                ),
            ],
        ),
    ]
    table = Table(
        title="First example: logits and probabilities",
        columns=[
            "class",
            "logit",
            "softmax",
            f"softmax after +{params.logit_shift:g} ({params.implementation})",
        ],
        rows=[
            [
                i,
                float(example[i].item()),
                float(p[0, i].item()),
                float(p_shift[0, i].item()) if finite else "nan",
            ]
            for i in range(params.n_classes)
        ],
    )
    claims = [
        Claim(
            id="softmax-shift-invariant",
            text=CLAIMS["softmax-shift-invariant"],
            passed=bool(shift_ok),
            values={
                "max_difference": shift_gap if finite else -1.0,
                "finite": finite,
                "implementation": params.implementation,
            },
        ),
        Claim(
            id="temperature-sharpens",
            text=CLAIMS["temperature-sharpens"],
            passed=bool(ht < h1 and topt > top1),
            values={"entropy_T1": h1, "entropy_T": ht, "top_prob_T1": top1, "top_prob_T": topt},
        ),
        Claim(
            id="ce-gradient-is-p-minus-y",
            text=CLAIMS["ce-gradient-is-p-minus-y"],
            passed=bool(ce_gap < 1e-6),
            values={"max_difference": ce_gap, "label_smoothing": params.label_smoothing},
        ),
        Claim(
            id="unscaled-attention-saturates",
            text=CLAIMS["unscaled-attention-saturates"],
            passed=bool(top_unscaled > 0.75 and top_scaled < 0.5),
            values={
                "mean_top_weight_unscaled": top_unscaled,
                "mean_top_weight_scaled": top_scaled,
                "head_dim": params.head_dim,
            },
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"{params.implementation} softmax 在偏移 {params.logit_shift:g} 后："
            f"{'不变' if shift_ok else '出错'}；T=1 时熵为 {h1:.3f}，T={params.temperature:g} 时为"
            f" {ht:.3f}；注意力最大权重：不缩放 {top_unscaled:.2f}，缩放 {top_scaled:.2f}。"
        ),
        summary=(
            f"{params.implementation} softmax after a shift of {params.logit_shift:g}: "
            f"{'unchanged' if shift_ok else 'broken'}; entropy {h1:.3f} at T=1 vs {ht:.3f} at "
            f"T={params.temperature:g}; attention top weight {top_unscaled:.2f} unscaled vs "
            f"{top_scaled:.2f} scaled."
        ),
        metrics={
            "entropy_T1": h1,
            "entropy_T": ht,
            "ce_gradient_gap": ce_gap,
            "attention_top_weight_unscaled": top_unscaled,
            "attention_top_weight_scaled": top_scaled,
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
