"""Gradient accumulation over k micro-batches against one batch k times larger."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Gradient accumulation vs one large batch"
TITLE_ZH = "梯度累积与一次大 batch 的对比"
DESCRIPTION = (
    "Computes one gradient on a batch of k*b samples and the same gradient accumulated over "
    "k micro-batches of b samples (each loss divided by k), for an MLP with and without "
    "BatchNorm."
)
DESCRIPTION_ZH = (
    "对同一批 k*b 个样本，一次性算梯度，再分成 k 个 b 样本的 micro-batch 累积梯度"
    "（每个 loss 除以 k），分别在有无 BatchNorm 的 MLP 上比较。"
)
CLAIMS = {
    "accumulation-matches-large-batch": (
        "Without BatchNorm, the gradient accumulated over k micro-batches (losses divided by k) "
        "equals the large-batch gradient to a relative error below 1e-5."
    ),
    "batchnorm-breaks-equivalence": (
        "With BatchNorm, the accumulated gradient differs from the large-batch gradient by a "
        "relative error above 1e-2: each micro-batch is normalised with its own statistics."
    ),
    "unscaled-sum-is-k-times-larger": (
        "Without dividing each micro-batch loss by k, the accumulated gradient is k times the "
        "large-batch gradient (norm ratio within 1e-4 of k)."
    ),
}
CLAIMS_ZH = {
    "accumulation-matches-large-batch": (
        "不带 BatchNorm 时，k 个 micro-batch 累积的梯度（每个 loss 除以 k）与大 batch 梯度的相对误"
        "差"
        "小于 1e-5。"
    ),
    "batchnorm-breaks-equivalence": (
        "带 BatchNorm 时，累积梯度与大 batch 梯度的相对误差大于 1e-2：每个 micro-batch 用的是"
        "自己的统计量。"
    ),
    "unscaled-sum-is-k-times-larger": (
        "如果每个 micro-batch 的 loss 不除以 k，累积梯度是大 batch 梯度的 k 倍（范数比与 k 相差"
        "小于 1e-4）。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "accumulation-matches-large-batch": "any k and b (no BatchNorm)",
    "batchnorm-breaks-equivalence": "k >= 2 (with k = 1 both are the same batch)",
    "unscaled-sum-is-k-times-larger": "any k",
}
CLAIM_SHOWN_WHEN_ZH = {
    "accumulation-matches-large-batch": "任意 k 和 b（不带 BatchNorm）",
    "batchnorm-breaks-equivalence": "k >= 2（k = 1 时两者是同一个 batch）",
    "unscaled-sum-is-k-times-larger": "任意 k",
}
TEXT_ZH = {
    "Relative gradient error vs large batch": "与大 batch 梯度的相对误差",
    "model": "模型",
    "relative error": "相对误差",
    "MLP": "MLP",
    "MLP + BatchNorm": "MLP + BatchNorm",
    "MLP, loss not divided by k": "MLP，loss 未除以 k",
    "Gradient comparison": "梯度对比",
    "norm ratio (accumulated / large)": "范数比（累积 / 大 batch）",
    "Micro-batches accumulated (k)": "累积的 micro-batch 数（k）",
    "Samples per micro-batch (b)": "每个 micro-batch 的样本数（b）",
}


class Params(BaseModel):
    k: int = Field(4, ge=1, le=16, description="Micro-batches accumulated (k)")
    micro_batch: int = Field(8, ge=2, le=64, description="Samples per micro-batch (b)")


def _flat_grad(model) -> object:  # type: ignore[no-untyped-def]
    import torch

    return torch.cat([p.grad.reshape(-1) for p in model.parameters() if p.grad is not None])


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import copy

    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    k, b = params.k, params.micro_batch
    x = torch.randn(k * b, 16).to(device)
    y = torch.randn(k * b, 1).to(device)

    def build(batchnorm: bool) -> nn.Module:
        layers: list[nn.Module] = [nn.Linear(16, 32)]
        if batchnorm:
            layers.append(nn.BatchNorm1d(32))
        layers += [nn.Tanh(), nn.Linear(32, 1)]
        return nn.Sequential(*layers).to(device).double()

    def large_batch(model: nn.Module) -> torch.Tensor:
        model.zero_grad()
        nn.functional.mse_loss(model(x.double()), y.double()).backward()
        return _flat_grad(model).clone()

    def accumulated(model: nn.Module, divide: bool) -> torch.Tensor:
        model.zero_grad()
        for xs, ys in zip(x.double().chunk(k), y.double().chunk(k), strict=True):
            loss = nn.functional.mse_loss(model(xs), ys)
            (loss / k if divide else loss).backward()
        return _flat_grad(model).clone()

    def rel(a: torch.Tensor, ref: torch.Tensor) -> float:
        return float((a - ref).norm() / ref.norm())

    torch.manual_seed(ctx.seed)
    plain = build(False)
    bn = build(True)
    bn_copy = copy.deepcopy(bn)  # same weights; train-mode BN also updates running stats
    ref_plain = large_batch(plain)
    err_plain = rel(accumulated(plain, True), ref_plain)
    unscaled = accumulated(plain, False)
    ratio = float(unscaled.norm() / ref_plain.norm())
    err_bn = rel(accumulated(bn_copy, True), large_batch(bn))

    claims = [
        Claim(
            id="accumulation-matches-large-batch",
            text=CLAIMS["accumulation-matches-large-batch"],
            passed=err_plain < 1e-5,
            values={"relative_error": err_plain},
        ),
        Claim(
            id="batchnorm-breaks-equivalence",
            text=CLAIMS["batchnorm-breaks-equivalence"],
            passed=err_bn > 1e-2,
            values={"relative_error": err_bn},
        ),
        Claim(
            id="unscaled-sum-is-k-times-larger",
            text=CLAIMS["unscaled-sum-is-k-times-larger"],
            passed=abs(ratio - k) < 1e-4,
            values={"norm_ratio": ratio, "k": k},
        ),
    ]
    floor = 1e-17
    chart = Chart(
        id="accumulation-error",
        title="Relative gradient error vs large batch",
        kind="bar",
        x_label="model",
        y_label="relative error",
        log_y=True,
        categories=["MLP", "MLP + BatchNorm"],
        series=[Series(name="relative error", x=[0, 1], y=[max(err_plain, floor), err_bn])],
    )
    table = Table(
        title="Gradient comparison",
        columns=["model", "relative error", "norm ratio (accumulated / large)"],
        rows=[
            ["MLP", err_plain, 1.0],
            ["MLP + BatchNorm", err_bn, 1.0],
            ["MLP, loss not divided by k", rel(unscaled, ref_plain), ratio],
        ],
    )
    return DemoResult(
        summary=(
            f"k={k} micro-batches of {b}: relative error {err_plain:.1e} without BatchNorm, "
            f"{err_bn:.1e} with it; forgetting the 1/k gives {ratio:.2f}x the gradient."
        ),
        summary_zh=(
            f"k={k} 个 {b} 样本的 micro-batch：不带 BatchNorm 相对误差 {err_plain:.1e}，"
            f"带 BatchNorm {err_bn:.1e}；忘记除以 k 时梯度是 {ratio:.2f} 倍。"
        ),
        metrics={
            "relative_error_plain": err_plain,
            "relative_error_batchnorm": err_bn,
            "unscaled_norm_ratio": ratio,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
