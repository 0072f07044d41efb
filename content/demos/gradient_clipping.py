"""Gradient clipping: what norm clipping fixes (exploding steps) and cannot fix (vanishing)."""

from __future__ import annotations

import math

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Gradient clipping: exploding vs vanishing"
DESCRIPTION = (
    "Trains a deep ReLU MLP initialized above the critical scale with and without global-norm "
    "clipping, "
    "compares clip-by-value with the raw gradient, and applies the same clipping to a vanishing "
    "sigmoid MLP."
)
CLAIMS = {
    "unclipped-diverges": (
        "Without clipping, SGD on the over-scaled network diverges: the loss becomes NaN/inf or "
        "ends "
        "above 10 x its initial value."
    ),
    "clipped-converges": (
        "With global-norm clipping at max_norm, the same SGD run stays finite and ends below 10% "
        "of its "
        "initial loss."
    ),
    "value-clipping-changes-direction": (
        "Clipping each gradient entry to [-clip_value, clip_value] changes the update's "
        "direction: the cosine "
        "between raw and value-clipped gradient at step 0 is below 0.99."
    ),
    "clipping-does-not-fix-vanishing": (
        "On a sigmoid MLP of the same depth, after norm clipping the first layer's gradient is "
        "still below "
        "1e-4 of the last layer's: clipping only ever scales gradients down."
    ),
}
TITLE_ZH = "梯度裁剪：梯度爆炸与梯度消失"
DESCRIPTION_ZH = (
    "用全局范数裁剪和不裁剪分别训练一个初始化超过临界尺度的深层 ReLU MLP，比较按值裁剪与原始梯度"
    "，并把同样的裁剪用在梯度消失的 sigmoid MLP 上。"
)
CLAIMS_ZH = {
    "unclipped-diverges": (
        "不裁剪时，过大尺度网络上的 SGD 发散：损失变为 NaN/inf，或最终超过初始值的 10 倍。"
    ),
    "clipped-converges": (
        "以 max_norm 做全局范数裁剪时，同样的 SGD 保持有限，并最终低于初始损失的 10%。"
    ),
    "value-clipping-changes-direction": (
        "把每个梯度分量裁到 [-clip_value, clip_value] 会改变更新方向：第 0 步原始梯度与按值裁剪梯"
        "度的余弦小于 0.99。"
    ),
    "clipping-does-not-fix-vanishing": (
        "在同样深度的 sigmoid MLP 上，范数裁剪后第一层的梯度仍小于最后一层的 1e-4：裁剪只会把梯度"
        "缩小。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "unclipped-diverges": "weight_gain >= 1.3 with lr >= 0.02 (the defaults)",
    "clipped-converges": "max_norm around 1 or below (the default 1)",
    "value-clipping-changes-direction": (
        "clip_value below the largest gradient entries (the default 0.1)"
    ),
    "clipping-does-not-fix-vanishing": (
        "depth >= 6 (sigmoid gradients shrink at least 4x per layer)"
    ),
}
CLAIM_SHOWN_WHEN_ZH = {
    "unclipped-diverges": "weight_gain >= 1.3 且 lr >= 0.02（默认设置）",
    "clipped-converges": "max_norm 约为 1 或更小（默认 1）",
    "value-clipping-changes-direction": "clip_value 小于最大的梯度元素（默认 0.1）",
    "clipping-does-not-fix-vanishing": "depth >= 6（sigmoid 梯度每层至少缩小 4 倍）",
}
TEXT_ZH = {
    "Number of linear layers": "线性层数",
    "Weight std as a multiple of He init's std": "权重标准差相对 He 初始化标准差的倍数",
    "SGD learning rate": "SGD 学习率",
    "Global-norm clipping threshold": "全局范数裁剪阈值",
    "Per-entry threshold for clip-by-value": "按值裁剪的逐元素阈值",
    "SGD steps per run": "每次运行的 SGD 步数",
    "Runs": "各次运行",
    "run": "运行",
    "initial loss": "初始损失",
    "final finite loss": "最终有限损失",
    "stayed finite": "保持有限",
    "steps completed": "完成步数",
    "no clipping": "不裁剪",
    "Training loss with and without norm clipping": "有无范数裁剪时的训练损失",
    "step": "步数",
    "MSE loss": "MSE 损失",
    "Global gradient norm before clipping": "裁剪前的全局梯度范数",
    "||g||": "||g||",
}


class Params(BaseModel):
    depth: int = Field(8, ge=2, le=20, description="Number of linear layers")
    weight_gain: float = Field(
        1.3, ge=0.5, le=3.0, description="Weight std as a multiple of He init's std"
    )
    lr: float = Field(0.02, ge=1e-4, le=0.5, description="SGD learning rate")
    max_norm: float = Field(1.0, ge=0.01, le=1e6, description="Global-norm clipping threshold")
    clip_value: float = Field(
        0.1, ge=0.001, le=100.0, description="Per-entry threshold for clip-by-value"
    )
    steps: int = Field(100, ge=10, le=300, description="SGD steps per run")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    device = torch.device(ctx.device)
    width, d_in = 32, 16

    def make(activation: type[nn.Module], he_gain: float | None) -> nn.Sequential:
        torch.manual_seed(ctx.seed)
        layers: list[nn.Module] = []
        for i in range(params.depth):
            last = i == params.depth - 1
            lin = nn.Linear(d_in if i == 0 else width, 1 if last else width)
            if he_gain is not None:
                nn.init.normal_(lin.weight, std=he_gain * math.sqrt(2.0 / lin.in_features))
                nn.init.zeros_(lin.bias)
            layers.append(lin)
            if not last:
                layers.append(activation())
        return nn.Sequential(*layers).to(device)

    gen = torch.Generator().manual_seed(ctx.seed + 1)
    x = torch.randn(128, d_in, generator=gen).to(device)
    y = torch.sin(x[:, :1])

    def train(max_norm: float | None) -> tuple[list[float], list[float], bool]:
        model = make(nn.ReLU, params.weight_gain)
        losses: list[float] = []
        norms: list[float] = []
        for _ in range(params.steps):
            model.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            value = float(loss.item())
            if not math.isfinite(value):
                return losses, norms, False
            losses.append(value)
            loss.backward()
            if max_norm is None:
                total = float(
                    torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf")).item()
                )
            else:
                # Returns the norm before clipping; scales gradients by min(1, max_norm / total).
                total = float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm).item())
            norms.append(total if math.isfinite(total) else 1e30)
            if not math.isfinite(total):
                return losses, norms, False
            with torch.no_grad():
                for p in model.parameters():
                    p -= params.lr * p.grad
        return losses, norms, True

    ctx.progress(0.1, "training without clipping")
    raw_losses, raw_norms, raw_finite = train(None)
    ctx.progress(0.4, "training with norm clipping")
    clip_losses, clip_norms, clip_finite = train(params.max_norm)

    raw_diverged = (not raw_finite) or raw_losses[-1] > 10 * raw_losses[0]
    clip_ok = clip_finite and clip_losses[-1] < 0.1 * clip_losses[0]

    # Clip-by-value vs the raw gradient at step 0.
    model = make(nn.ReLU, params.weight_gain)
    nn.functional.mse_loss(model(x), y).backward()
    g = torch.cat([p.grad.flatten() for p in model.parameters()])
    g_val = g.clamp(-params.clip_value, params.clip_value)
    cosine = (
        float(nn.functional.cosine_similarity(g, g_val, dim=0).item())
        if float(g_val.norm()) > 0
        else 0.0
    )
    frac_clipped = float((g.abs() > params.clip_value).float().mean().item())

    # The same norm clipping on a vanishing network (sigmoid, PyTorch default init).
    ctx.progress(0.8, "clipping a vanishing network")
    sig = make(nn.Sigmoid, None)
    nn.functional.mse_loss(sig(x), y).backward()
    lins = [m for m in sig if isinstance(m, nn.Linear)]
    before = float(lins[0].weight.grad.norm().item())
    torch.nn.utils.clip_grad_norm_(sig.parameters(), params.max_norm)
    first_after = float(lins[0].weight.grad.norm().item())
    ratio_after = first_after / max(float(lins[-1].weight.grad.norm().item()), 1e-30)

    cap = 1e30

    def clean(v: list[float]) -> list[float]:
        return [min(max(a, 1e-30), cap) for a in v]

    charts = [
        Chart(
            id="loss",
            title="Training loss with and without norm clipping",
            x_label="step",
            y_label="MSE loss",
            log_y=True,
            series=[
                Series(
                    name="no clipping",
                    x=[float(i) for i in range(len(raw_losses))],
                    y=clean(raw_losses),
                ),
                Series(
                    name=f"clip norm at {params.max_norm:g}",
                    x=[float(i) for i in range(len(clip_losses))],
                    y=clean(clip_losses),
                ),
            ],
        ),
        Chart(
            id="grad-norm",
            title="Global gradient norm before clipping",
            x_label="step",
            y_label="||g||",
            log_y=True,
            series=[
                Series(
                    name="no clipping",
                    x=[float(i) for i in range(len(raw_norms))],
                    y=clean(raw_norms),
                ),
                Series(
                    name=f"clip norm at {params.max_norm:g}",
                    x=[float(i) for i in range(len(clip_norms))],
                    y=clean(clip_norms),
                ),
            ],
        ),
    ]
    table = Table(
        title="Runs",
        columns=["run", "initial loss", "final finite loss", "stayed finite", "steps completed"],
        rows=[
            [
                "no clipping",
                min(raw_losses[0], cap),
                min(raw_losses[-1], cap),
                raw_finite,
                len(raw_losses),
            ],
            [
                f"clip norm {params.max_norm:g}",
                min(clip_losses[0], cap),
                min(clip_losses[-1], cap),
                clip_finite,
                len(clip_losses),
            ],
        ],
    )
    claims = [
        Claim(
            id="unclipped-diverges",
            text=CLAIMS["unclipped-diverges"],
            passed=bool(raw_diverged),
            values={
                "initial_loss": min(raw_losses[0], cap),
                "last_finite_loss": min(raw_losses[-1], cap),
                "stayed_finite": raw_finite,
            },
        ),
        Claim(
            id="clipped-converges",
            text=CLAIMS["clipped-converges"],
            passed=bool(clip_ok),
            values={
                "initial_loss": min(clip_losses[0], cap),
                "final_loss": min(clip_losses[-1], cap),
                "stayed_finite": clip_finite,
            },
        ),
        Claim(
            id="value-clipping-changes-direction",
            text=CLAIMS["value-clipping-changes-direction"],
            passed=bool(cosine < 0.99),
            values={"cosine": cosine, "fraction_of_entries_clipped": frac_clipped},
        ),
        Claim(
            id="clipping-does-not-fix-vanishing",
            text=CLAIMS["clipping-does-not-fix-vanishing"],
            passed=bool(ratio_after < 1e-4 and first_after <= before * (1 + 1e-6)),
            values={
                "first_over_last_after_clip": ratio_after,
                "first_layer_norm_before": before,
                "first_layer_norm_after": first_after,
            },
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"不裁剪：{'发散' if raw_diverged else '没有发散'}；按 {params.max_norm:g} 裁剪：损失 "
            f"{min(clip_losses[0], cap):.3g} -> {min(clip_losses[-1], cap):.3g}。按值 "
            f"{params.clip_value:g} 裁剪后与原梯度的余弦为 {cosine:.3f}。"
        ),
        summary=(
            f"No clipping: {'diverged' if raw_diverged else 'did not diverge'}; clipping at "
            f"{params.max_norm:g}: "
            f"loss {min(clip_losses[0], cap):.3g} -> {min(clip_losses[-1], cap):.3g}. "
            f"Clip-by-value at {params.clip_value:g} keeps cosine {cosine:.3f} with the raw "
            "gradient."
        ),
        metrics={
            "raw_initial_loss": min(raw_losses[0], cap),
            "clipped_final_loss": min(clip_losses[-1], cap),
            "max_grad_norm_unclipped": min(max(raw_norms) if raw_norms else 0.0, cap),
            "value_clip_cosine": cosine,
            "vanishing_first_over_last": ratio_after,
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
