"""fp16 vs bf16 in a training step: overflow, gradient underflow, and loss scaling."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Mixed precision: fp16 overflow, gradient underflow and loss scaling"
TITLE_ZH = "混合精度：fp16 溢出、梯度下溢与损失缩放"
DESCRIPTION = (
    "Runs one training step of an MLP in fp32, fp16 and bf16 working copies: fp16 overflows on a "
    "value bf16 keeps; small gradients underflow to zero in fp16 unless the loss is scaled; a "
    "dynamic scaler skips overflowing steps. On CUDA it uses a larger MLP and batch (the same "
    "claims) and reports step times."
)
DESCRIPTION_ZH = (
    "用 fp32、fp16 和 bf16 的工作副本各做一步 MLP 训练：fp16 在 bf16 能表示的值上溢出；"
    "不做损失缩放时小梯度在 fp16 下溢为 0；动态缩放器会跳过溢出的 step。"
    "在 CUDA 上用更大的 MLP 和 batch（结论相同），并报告每步耗时。"
)
# The point shows at full size only on a GPU; CUDA runs a larger configuration.
BENEFITS_FROM_GPU = True
CLAIMS = {
    "fp16-overflows-bf16-keeps": (
        "A value of 70000 becomes inf in fp16 (largest finite value 65504) and stays finite in "
        "bf16."
    ),
    "unscaled-fp16-gradients-underflow": (
        "Without loss scaling, at least 20% of the gradient entries that are nonzero in fp32 "
        "become exactly zero in fp16."
    ),
    "loss-scaling-rescues-fp16-gradients": (
        "With a loss scale of 2^16, fewer than 1% of those entries are zero after unscaling, "
        "and the fp16 gradient matches fp32 to a relative error below 1e-2."
    ),
    "dynamic-scaler-skips-overflow": (
        "A dynamic scaler started at 2^40 meets inf gradients, skips those steps and halves the "
        "scale until the gradients are finite."
    ),
    "bf16-needs-no-loss-scaling": (
        "Without loss scaling, fewer than 1% of those entries are zero in bf16: it has fp32's "
        "exponent range."
    ),
}
CLAIMS_ZH = {
    "fp16-overflows-bf16-keeps": (
        "70000 在 fp16 中变成 inf（最大有限值 65504），在 bf16 中仍是有限值。"
    ),
    "unscaled-fp16-gradients-underflow": (
        "不做损失缩放时，fp32 中非零的梯度元素至少有 20% 在 fp16 中变成精确的 0。"
    ),
    "loss-scaling-rescues-fp16-gradients": (
        "损失缩放 2^16 时，反缩放后这些元素为 0 的不到 1%，fp16 梯度与 fp32 的相对误差小于 1e-2。"
    ),
    "dynamic-scaler-skips-overflow": (
        "从 2^40 开始的动态缩放器遇到 inf 梯度时跳过这一步并把缩放减半，直到梯度有限。"
    ),
    "bf16-needs-no-loss-scaling": (
        "不做损失缩放时，这些元素在 bf16 中为 0 的不到 1%：它的指数范围和 fp32 一样。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "fp16-overflows-bf16-keeps": "any setting",
    "unscaled-fp16-gradients-underflow": "loss weight <= 1e-7 (small gradients)",
    "loss-scaling-rescues-fp16-gradients": "loss weight between 1e-9 and 1e-2",
    "dynamic-scaler-skips-overflow": "any setting",
    "bf16-needs-no-loss-scaling": "any setting",
}
CLAIM_SHOWN_WHEN_ZH = {
    "fp16-overflows-bf16-keeps": "任意设置",
    "unscaled-fp16-gradients-underflow": "loss 权重 <= 1e-7（梯度很小）",
    "loss-scaling-rescues-fp16-gradients": "loss 权重在 1e-9 到 1e-2 之间",
    "dynamic-scaler-skips-overflow": "任意设置",
    "bf16-needs-no-loss-scaling": "任意设置",
}
TEXT_ZH = {
    "Gradient entries flushed to zero": "被冲成 0 的梯度元素比例",
    "run": "运行方式",
    "share of entries that are zero": "为 0 的元素比例",
    "fp16, no scaling": "fp16，不缩放",
    "fp16, scale 2^16": "fp16，缩放 2^16",
    "bf16, no scaling": "bf16，不缩放",
    "Dynamic loss scale": "动态损失缩放",
    "attempt": "尝试次数",
    "log2(scale)": "log2(缩放)",
    "scale": "缩放",
    "Gradients by precision": "各精度下的梯度",
    "zero share": "为 0 的比例",
    "relative error vs fp32": "相对 fp32 的误差",
    "Weight of the loss (sets the gradient scale)": "loss 的权重（决定梯度量级）",
}


class Params(BaseModel):
    loss_weight: float = Field(
        1e-8, ge=1e-10, le=1.0, description="Weight of the loss (sets the gradient scale)"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import time

    import torch
    from torch import nn

    device = torch.device(ctx.device)
    on_cuda = ctx.device.startswith("cuda")
    if on_cuda:
        torch.backends.cuda.matmul.allow_tf32 = False  # compare against true fp32
    width, batch, d_in = (4096, 256, 1024) if on_cuda else (64, 64, 32)

    torch.manual_seed(ctx.seed)
    master = nn.Sequential(nn.Linear(d_in, width), nn.Tanh(), nn.Linear(width, 1))
    x = torch.randn(batch, d_in)
    y = torch.randn(batch, 1)
    master, x, y = master.to(device), x.to(device), y.to(device)

    def gradients(dtype: torch.dtype, scale: float) -> tuple[torch.Tensor, float]:
        """One backward through a working copy in `dtype`; the gradient, unscaled to fp32."""
        work = [p.detach().to(dtype).requires_grad_(True) for p in master.parameters()]
        w1, b1, w2, b2 = work
        start = time.perf_counter()
        out = torch.tanh(x.to(dtype) @ w1.T + b1) @ w2.T + b2
        # Summed, not averaged: the per-sample gradient scale is the same at any batch size.
        loss = params.loss_weight * (out.float() - y).pow(2).sum()
        (loss * scale).backward()
        if on_cuda:
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        flat = torch.cat([p.grad.float().reshape(-1) for p in work]) / scale
        return flat, elapsed

    ctx.progress(0.2, "fp32 reference")
    ref, t32 = gradients(torch.float32, 1.0)
    nonzero = ref != 0
    fp16_plain, t16 = gradients(torch.float16, 1.0)
    fp16_scaled, _ = gradients(torch.float16, 2.0**16)
    bf16_plain, tbf = gradients(torch.bfloat16, 1.0)

    def zero_share(g: torch.Tensor) -> float:
        return float((g[nonzero] == 0).float().mean())

    def rel_err(g: torch.Tensor) -> float:
        if not torch.isfinite(g).all():
            return float("inf")
        return float((g - ref).norm() / ref.norm())

    z16, z16s, zbf = zero_share(fp16_plain), zero_share(fp16_scaled), zero_share(bf16_plain)
    err16s, errbf = rel_err(fp16_scaled), rel_err(bf16_plain)

    ctx.progress(0.6, "dynamic loss scaling")
    scale, log2_scales, skipped = 2.0**40, [], 0
    for _ in range(64):
        grads, _ = gradients(torch.float16, scale)
        log2_scales.append(float(torch.log2(torch.tensor(scale))))
        if torch.isfinite(grads).all():
            break
        skipped += 1  # GradScaler: skip optimizer.step(), halve the scale
        scale /= 2.0
    final_finite = bool(torch.isfinite(grads).all())

    big = torch.tensor(70000.0)
    in_fp16, in_bf16 = float(big.to(torch.float16)), float(big.to(torch.bfloat16))
    fp16_max = float(torch.finfo(torch.float16).max)

    finite_err = min(err16s, 1e30)
    claims = [
        Claim(
            id="fp16-overflows-bf16-keeps",
            text=CLAIMS["fp16-overflows-bf16-keeps"],
            passed=in_fp16 == float("inf") and in_bf16 < float("inf"),
            values={"fp16_max": fp16_max, "bf16_value": in_bf16, "fp16_is_inf": in_fp16 > 1e38},
        ),
        Claim(
            id="unscaled-fp16-gradients-underflow",
            text=CLAIMS["unscaled-fp16-gradients-underflow"],
            passed=z16 >= 0.2,
            values={"zero_share_fp16": z16},
        ),
        Claim(
            id="loss-scaling-rescues-fp16-gradients",
            text=CLAIMS["loss-scaling-rescues-fp16-gradients"],
            passed=z16s < 0.01 and err16s < 1e-2,
            values={"zero_share_scaled": z16s, "relative_error": finite_err},
        ),
        Claim(
            id="dynamic-scaler-skips-overflow",
            text=CLAIMS["dynamic-scaler-skips-overflow"],
            passed=skipped > 0 and final_finite,
            values={"skipped_steps": skipped, "final_log2_scale": log2_scales[-1]},
        ),
        Claim(
            id="bf16-needs-no-loss-scaling",
            text=CLAIMS["bf16-needs-no-loss-scaling"],
            passed=zbf < 0.01,
            values={"zero_share_bf16": zbf, "relative_error_bf16": errbf},
        ),
    ]
    runs = ["fp16, no scaling", "fp16, scale 2^16", "bf16, no scaling"]
    zero_chart = Chart(
        id="zero-share",
        title="Gradient entries flushed to zero",
        kind="bar",
        x_label="run",
        y_label="share of entries that are zero",
        categories=runs,
        series=[Series(name="zero share", x=[0, 1, 2], y=[z16, z16s, zbf])],
    )
    scale_chart = Chart(
        id="dynamic-scale",
        title="Dynamic loss scale",
        x_label="attempt",
        y_label="log2(scale)",
        series=[Series(name="scale", x=list(range(len(log2_scales))), y=log2_scales)],
    )
    table = Table(
        title="Gradients by precision",
        columns=["run", "zero share", "relative error vs fp32"],
        rows=[
            ["fp16, no scaling", z16, min(rel_err(fp16_plain), 1e30)],
            ["fp16, scale 2^16", z16s, finite_err],
            ["bf16, no scaling", zbf, errbf],
        ],
    )
    metrics: dict[str, float | int | str | bool] = {
        "zero_share_fp16": z16,
        "zero_share_fp16_scaled": z16s,
        "zero_share_bf16": zbf,
        "relative_error_bf16": errbf,
        "skipped_steps": skipped,
        "configuration": f"width {width}, batch {batch}",
    }
    if on_cuda:  # timings only where the device makes them meaningful; no claim on them
        metrics.update(
            {"step_ms_fp32": t32 * 1e3, "step_ms_fp16": t16 * 1e3, "step_ms_bf16": tbf * 1e3}
        )
    return DemoResult(
        summary=(
            f"Loss weight {params.loss_weight:g}: {z16:.0%} of gradient entries underflow in "
            f"fp16, {z16s:.1%} with loss scale 2^16, {zbf:.1%} in bf16; the dynamic scaler "
            f"skipped {skipped} steps; 70000 -> {in_fp16} in fp16, {in_bf16:g} in bf16."
        ),
        summary_zh=(
            f"loss 权重 {params.loss_weight:g}：fp16 中 {z16:.0%} 的梯度元素下溢，"
            f"缩放 2^16 后 {z16s:.1%}，bf16 中 {zbf:.1%}；动态缩放器跳过了 {skipped} 步；"
            f"70000 在 fp16 中为 {in_fp16}，在 bf16 中为 {in_bf16:g}。"
        ),
        metrics=metrics,
        tables=[table],
        charts=[zero_chart, scale_chart],
        claims=claims,
    )
