"""A stack of linear layers without activations collapses to one linear map and cannot fit XOR."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Linear layers stacked without activations"
DESCRIPTION = (
    "Trains a deep MLP on XOR-style data with the chosen activation (or none), multiplies out its "
    "weight matrices, and compares it with a single logistic-regression layer."
)
CLAIMS = {
    "collapses-to-one-linear-map": (
        "With the configured activation, the trained deep network computes exactly one affine map "
        "x -> W x + b, where W is the product of its weight matrices (max difference below 1e-4)."
    ),
    "no-better-than-one-linear-layer": (
        "With the configured activation, the deep network's accuracy on XOR-style data is no "
        "better than a single linear layer's (within 2 percentage points)."
    ),
}
TITLE_ZH = "不加激活函数堆叠的线性层"
DESCRIPTION_ZH = (
    "用所选激活函数（或不用）在 XOR 型数据上训练深层 MLP，把权重矩阵乘起来，并与单层逻辑回归比较。"
)
CLAIMS_ZH = {
    "collapses-to-one-linear-map": (
        "在所设激活函数下，训练好的深层网络恰好计算一个仿射映射 x -> W x + b，W 是其权重矩阵之积"
        "（最大差小于 1e-4）。"
    ),
    "no-better-than-one-linear-layer": (
        "在所设激活函数下，深层网络在 XOR 型数据上的准确率不比单个线性层好（相差不超过 2 个百分点"
        "）。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "collapses-to-one-linear-map": "activation none",
    "no-better-than-one-linear-layer": "activation none",
}
CLAIM_SHOWN_WHEN_ZH = {
    "collapses-to-one-linear-map": "activation 为 none",
    "no-better-than-one-linear-layer": "activation 为 none",
}
TEXT_ZH = {
    "Number of linear layers": "线性层数",
    "Hidden units per layer": "每层隐藏单元数",
    "Activation between the linear layers": "线性层之间的激活函数",
    "Full-batch Adam steps": "全批量 Adam 步数",
    "Adam learning rate": "Adam 学习率",
    "Training loss on XOR-style data": "XOR 型数据上的训练损失",
    "step": "步数",
    "BCE loss": "BCE 损失",
    "Deep network vs one linear layer": "深层网络与单个线性层",
    "model": "模型",
    "parameters": "参数量",
    "train accuracy": "训练准确率",
    "1 linear layer": "1 个线性层",
    "one linear layer": "单个线性层",
}


class Params(BaseModel):
    depth: int = Field(5, ge=1, le=10, description="Number of linear layers")
    width: int = Field(16, ge=2, le=64, description="Hidden units per layer")
    activation: Literal["none", "relu", "tanh"] = Field(
        "none", description="Activation between the linear layers"
    )
    steps: int = Field(200, ge=10, le=600, description="Full-batch Adam steps")
    lr: float = Field(0.05, ge=1e-4, le=0.3, description="Adam learning rate")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    n = 256
    x = torch.rand(n, 2).to(device) * 2 - 1
    y = ((x[:, 0] * x[:, 1]) > 0).float()  # XOR of the signs: not linearly separable

    def build(depth: int) -> nn.Sequential:
        layers: list[nn.Module] = []
        d = 2
        for i in range(depth):
            last = i == depth - 1
            layers.append(nn.Linear(d, 1 if last else params.width))
            d = params.width
            if not last and params.activation == "relu":
                layers.append(nn.ReLU())
            elif not last and params.activation == "tanh":
                layers.append(nn.Tanh())
        return nn.Sequential(*layers).to(device)

    def train(model: nn.Module) -> tuple[float, list[float]]:
        opt = torch.optim.Adam(model.parameters(), lr=params.lr)
        losses = []
        for _ in range(params.steps):
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(model(x).squeeze(1), y)
            loss.backward()
            opt.step()
            losses.append(float(loss.item()))
        with torch.no_grad():
            acc = float(((model(x).squeeze(1) > 0).float() == y).float().mean().item())
        return acc, losses

    ctx.progress(0.1, "training the deep network")
    deep = build(params.depth)
    deep_acc, deep_losses = train(deep)
    ctx.progress(0.6, "training one linear layer")
    single = build(1)
    single_acc, single_losses = train(single)

    # Multiply out the affine maps: W = W_L ... W_1, b = W_L(...(W_2 b_1 + b_2)...) + b_L.
    with torch.no_grad():
        w_eff = torch.eye(2, device=device)
        b_eff = torch.zeros(2, device=device)
        for layer in deep:
            if isinstance(layer, nn.Linear):
                w_eff = layer.weight @ w_eff
                b_eff = layer.weight @ b_eff + layer.bias
        collapsed = x @ w_eff.T + b_eff
        gap = float((deep(x) - collapsed).abs().max().item())
    deep_params = sum(p.numel() for p in deep.parameters())

    xs = [float(i + 1) for i in range(params.steps)]
    chart = Chart(
        id="training-loss",
        title="Training loss on XOR-style data",
        x_label="step",
        y_label="BCE loss",
        series=[
            Series(
                name=f"{params.depth}-layer, activation={params.activation}", x=xs, y=deep_losses
            ),
            Series(name="one linear layer", x=xs, y=single_losses),
        ],
    )
    table = Table(
        title="Deep network vs one linear layer",
        columns=["model", "parameters", "train accuracy"],
        rows=[
            [f"{params.depth} layers, {params.activation}", deep_params, deep_acc],
            ["1 linear layer", 3, single_acc],
        ],
    )
    claims = [
        Claim(
            id="collapses-to-one-linear-map",
            text=CLAIMS["collapses-to-one-linear-map"],
            passed=bool(gap < 1e-4),
            values={"max_abs_difference": gap, "activation": params.activation},
        ),
        Claim(
            id="no-better-than-one-linear-layer",
            text=CLAIMS["no-better-than-one-linear-layer"],
            passed=bool(deep_acc <= single_acc + 0.02),
            values={"deep_accuracy": deep_acc, "single_layer_accuracy": single_acc},
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"{params.depth} 个线性层，activation={params.activation}：准确率 {deep_acc:.2f}，单个"
            f"线性层为 {single_acc:.2f}；与乘开后的仿射映射相差 {gap:.1e}。"
        ),
        summary=(
            f"{params.depth} linear layers with activation={params.activation}: accuracy "
            f"{deep_acc:.2f} "
            f"vs {single_acc:.2f} for one linear layer; distance to the multiplied-out affine "
            f"map {gap:.1e}."
        ),
        metrics={
            "deep_accuracy": deep_acc,
            "single_layer_accuracy": single_acc,
            "collapse_gap": gap,
            "deep_parameters": deep_params,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
