"""Exploding gradients in a deep MLP whose weights are scaled above the critical initialization."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Exploding gradients from oversized weights"
DESCRIPTION = (
    "Initializes a deep MLP at gain x the critical scale (He for ReLU, 1/sqrt(fan_in) otherwise), "
    "measures each layer's gradient norm, then trains with plain SGD while logging loss and "
    "gradient norm."
)
CLAIMS = {
    "backward-signal-explodes": (
        "At initialization the backpropagated gradient dL/dh at the first hidden layer is more "
        "than "
        "1000 x its norm at the last hidden layer."
    ),
    "grad-norm-spikes": (
        "The logged global gradient norm exceeds 1000 at some training step while the loss is "
        "still finite."
    ),
    "loss-diverges": (
        "Plain SGD diverges: the loss becomes NaN/inf or ends above 10 x its initial value."
    ),
}
TITLE_ZH = "权重过大导致的梯度爆炸"
DESCRIPTION_ZH = (
    "以临界尺度（ReLU 用 He，其他用 1/sqrt(fan_in)）的 gain 倍初始化深层 MLP，测量每层的梯度范数"
    "，然后用普通 SGD 训练并记录损失和梯度范数。"
)
CLAIMS_ZH = {
    "backward-signal-explodes": (
        "初始化时，第一隐藏层反传得到的梯度 dL/dh 是最后一个隐藏层的 1000 倍以上。"
    ),
    "grad-norm-spikes": "记录的全局梯度范数在某一步超过 1000，而此时损失仍是有限的。",
    "loss-diverges": "普通 SGD 发散：损失变为 NaN/inf，或最终超过初始值的 10 倍。",
}


def _finite(value: float, cap: float = 1e30) -> float:
    """Overflowed measurements (inf, or NaN from inf - inf) are reported as the cap."""
    return value if math.isfinite(value) else cap


CLAIM_SHOWN_WHEN = {
    "backward-signal-explodes": (
        "weight_gain >= 1.5 with depth >= 20 (the defaults: gain 2, depth 20)"
    ),
    "grad-norm-spikes": "weight_gain >= 1.5 with depth >= 15",
    "loss-diverges": "weight_gain >= 1.5, depth >= 15 and lr >= 0.001",
}
CLAIM_SHOWN_WHEN_ZH = {
    "backward-signal-explodes": "weight_gain >= 1.5 且 depth >= 20（默认 gain 2、depth 20）",
    "grad-norm-spikes": "weight_gain >= 1.5 且 depth >= 15",
    "loss-diverges": "weight_gain >= 1.5、depth >= 15 且 lr >= 0.001",
}
TEXT_ZH = {
    "Number of linear layers": "线性层数",
    "Hidden units per layer": "每层隐藏单元数",
    "Hidden activation": "隐藏层激活函数",
    "Weight std as a multiple of the critical std (1.0 = He / LeCun init)": (
        "权重标准差相对临界标准差的倍数（1.0 = He / LeCun 初始化）"
    ),
    "SGD learning rate": "SGD 学习率",
    "SGD steps": "SGD 步数",
    "Training log": "训练日志",
    "step": "步数",
    "loss": "损失",
    "global grad norm": "全局梯度范数",
    "layer (1 = input side)": "层（1 = 输入端）",
    "norm": "范数",
    "Loss and global gradient norm during SGD": "SGD 训练中的损失和全局梯度范数",
    "value": "值",
    "||dL/dh|| (backward signal)": "||dL/dh||（反向信号）",
    "||dL/dW||": "||dL/dW||",
}


class Params(BaseModel):
    depth: int = Field(20, ge=2, le=40, description="Number of linear layers")
    width: int = Field(64, ge=8, le=128, description="Hidden units per layer")
    activation: Literal["relu", "tanh", "sigmoid", "linear"] = Field(
        "relu", description="Hidden activation"
    )
    weight_gain: float = Field(
        2.0,
        ge=0.25,
        le=4.0,
        description="Weight std as a multiple of the critical std (1.0 = He / LeCun init)",
    )
    lr: float = Field(0.01, ge=1e-5, le=1.0, description="SGD learning rate")
    steps: int = Field(30, ge=1, le=100, description="SGD steps")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity}
    d_in = 32
    layers: list[nn.Module] = []
    linears: list[nn.Linear] = []
    for i in range(params.depth):
        last = i == params.depth - 1
        fan_in = d_in if i == 0 else params.width
        lin = nn.Linear(fan_in, 1 if last else params.width)
        critical = math.sqrt((2.0 if params.activation == "relu" else 1.0) / fan_in)
        nn.init.normal_(lin.weight, std=params.weight_gain * critical)
        nn.init.zeros_(lin.bias)
        linears.append(lin)
        layers.append(lin)
        if not last:
            layers.append(acts[params.activation]())
    model = nn.Sequential(*layers).to(device)
    x = torch.randn(128, d_in).to(device)
    y = torch.sin(x[:, :1]) + 0.1 * torch.randn(128, 1).to(device)

    def global_norm() -> float:
        sq = sum(float(p.grad.double().pow(2).sum().item()) for p in model.parameters())
        return math.sqrt(sq)

    # Gradient norms at initialization: w.r.t. each hidden activation h_l (the backward signal)
    # and w.r.t. each weight matrix.
    hidden: list[torch.Tensor] = []
    h = x
    for module in model:
        h = module(h)
        if isinstance(module, tuple(acts.values())):
            h.retain_grad()
            hidden.append(h)
    loss0 = nn.functional.mse_loss(h, y)
    loss0.backward()
    norms = [_finite(float(lin.weight.grad.norm().item())) for lin in linears]
    signal = [_finite(float(t.grad.norm().item())) for t in hidden]
    ratio = signal[0] / max(signal[-1], 1e-30) if signal else 1.0
    model.zero_grad()

    ctx.progress(0.3, "training with SGD")
    # Plain SGD written out (W <- W - lr * dL/dW); torch.optim would add a second of import time.
    weights = list(model.parameters())
    losses: list[float] = []
    gnorms: list[float] = []
    nonfinite_step = -1
    for step in range(params.steps):
        model.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        lv = float(loss.item())
        if not math.isfinite(lv):
            nonfinite_step = step
            break
        loss.backward()
        gn = global_norm()
        losses.append(lv)
        gnorms.append(gn if math.isfinite(gn) else 1e300)
        if not math.isfinite(gn):
            nonfinite_step = step
            break
        with torch.no_grad():
            for p in weights:
                p -= params.lr * p.grad
    ctx.progress(0.9, "summarizing")

    initial = losses[0] if losses else float("inf")
    diverged = nonfinite_step >= 0 or (bool(losses) and losses[-1] > 10 * initial)
    max_gn = max(gnorms) if gnorms else 0.0
    cap = 1e30
    steps_x = [float(i) for i in range(len(losses))]
    charts = [
        Chart(
            id="layer-grad-norms",
            title=(
                f"Gradient norms per layer at init (gain {params.weight_gain}, {params.activation})"
            ),
            x_label="layer (1 = input side)",
            y_label="norm",
            log_y=True,
            series=[
                Series(
                    name="||dL/dh|| (backward signal)",
                    x=[float(i) for i in range(1, len(signal) + 1)],
                    y=[min(max(n, 1e-30), cap) for n in signal],
                ),
                Series(
                    name="||dL/dW||",
                    x=[float(i) for i in range(1, params.depth + 1)],
                    y=[min(max(n, 1e-30), cap) for n in norms],
                ),
            ],
        ),
        Chart(
            id="training",
            title="Loss and global gradient norm during SGD",
            x_label="step",
            y_label="value",
            log_y=True,
            series=[
                Series(name="loss", x=steps_x, y=[min(max(v, 1e-30), cap) for v in losses]),
                Series(
                    name="global grad norm", x=steps_x, y=[min(max(v, 1e-30), cap) for v in gnorms]
                ),
            ],
        ),
    ]
    table = Table(
        title="Training log",
        columns=["step", "loss", "global grad norm"],
        rows=[
            [i, min(lv, cap), min(g, cap)]
            for i, (lv, g) in enumerate(zip(losses, gnorms, strict=True))
        ],
    )
    claims = [
        Claim(
            id="backward-signal-explodes",
            text=CLAIMS["backward-signal-explodes"],
            passed=bool(ratio > 1e3),
            values={"first_over_last_hidden_grad": min(ratio, cap), "threshold": 1e3},
        ),
        Claim(
            id="grad-norm-spikes",
            text=CLAIMS["grad-norm-spikes"],
            passed=bool(max_gn > 1e3),
            values={"max_global_grad_norm": min(max_gn, cap), "threshold": 1e3},
        ),
        Claim(
            id="loss-diverges",
            text=CLAIMS["loss-diverges"],
            passed=bool(diverged),
            values={
                "initial_loss": min(initial, cap),
                "last_finite_loss": min(losses[-1], cap) if losses else 0.0,
                "nonfinite_at_step": nonfinite_step,
            },
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"增益 {params.weight_gain}、深度 {params.depth} 的 {params.activation} MLP：dL/dh 放"
            f"大了 {min(ratio, cap):.2e} 倍；SGD {'发散' if diverged else '保持有限'}"
            f"{f'（第 {nonfinite_step} 步出现非有限值）' if nonfinite_step >= 0 else ''}。"
        ),
        summary=(
            f"Gain {params.weight_gain} {params.activation} MLP of depth {params.depth}: dL/dh "
            "grows "
            f"by {min(ratio, cap):.2e}; SGD {'diverged' if diverged else 'stayed finite'}"
            f"{f' (non-finite at step {nonfinite_step})' if nonfinite_step >= 0 else ''}."
        ),
        metrics={
            "first_over_last_hidden_grad": min(ratio, cap),
            "first_layer_weight_grad_norm": min(norms[0], cap),
            "max_global_grad_norm": min(max_gn, cap),
            "initial_loss": min(initial, cap),
            "steps_run": len(losses),
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
