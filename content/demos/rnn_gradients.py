"""How far back a gradient reaches through a recurrent network: vanilla RNN vs LSTM vs GRU."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Gradients through time: RNN vs LSTM vs GRU"
DESCRIPTION = (
    "Runs a sequence through a recurrent layer, takes a loss on the last hidden state only, and "
    "measures "
    "the gradient with respect to the input at every earlier time step."
)
CLAIMS = {
    "long-range-gradient-vanishes": (
        "For the configured cell, the gradient reaching the first time step is below 1e-3 of the "
        "gradient "
        "at the last step."
    ),
    "long-range-gradient-survives": (
        "For the configured cell, the gradient reaching the first time step stays within a factor "
        "of 100 "
        "of the gradient at the last step."
    ),
    "long-range-gradient-explodes": (
        "For the configured cell, the gradient reaching the first time step is more than 1000 x "
        "the "
        "gradient at the last step."
    ),
}

TITLE_ZH = "随时间反传的梯度：RNN、LSTM 与 GRU"
DESCRIPTION_ZH = (
    "让一个序列通过循环层，只在最后一个隐藏状态上计算损失，并测量损失对每个更早时间步输入的梯度。"
)
CLAIMS_ZH = {
    "long-range-gradient-vanishes": (
        "对所选的循环单元，到达第一个时间步的梯度小于最后一步梯度的 1e-3。"
    ),
    "long-range-gradient-survives": (
        "对所选的循环单元，到达第一个时间步的梯度与最后一步的梯度相差不超过 100 倍。"
    ),
    "long-range-gradient-explodes": (
        "对所选的循环单元，到达第一个时间步的梯度超过最后一步梯度的 1000 倍。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "long-range-gradient-vanishes": (
        "cell rnn with recurrent gain 1 and 50 steps (or lstm with forget bias 1)"
    ),
    "long-range-gradient-survives": "cell lstm with forget bias 3 and recurrent gain 1",
    "long-range-gradient-explodes": "recurrent gain 8 (any cell)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "long-range-gradient-vanishes": "单元选 rnn，循环增益 1，50 步（或 lstm 且遗忘门偏置为 1）",
    "long-range-gradient-survives": "单元选 lstm，遗忘门偏置 3，循环增益 1",
    "long-range-gradient-explodes": "循环增益 8（任何单元）",
}
TEXT_ZH = {
    "||dL/dx_t|| for a loss on the last step (recurrent gain {})": (
        "只在最后一步计算损失时的 ||dL/dx_t||（循环增益 {}）"
    ),
    "time step t": "时间步 t",
    "gradient norm": "梯度范数",
    "First-step / last-step gradient ratio": "第一步与最后一步的梯度之比",
    "cell": "循环单元",
    "ratio": "比值",
    "first_over_last": "第一步/最后一步",
    "rnn_first_over_last": "RNN 第一步/最后一步",
    "lstm_first_over_last": "LSTM 第一步/最后一步",
    "gru_first_over_last": "GRU 第一步/最后一步",
    "Recurrent cell the claims are checked on": "检验结论所用的循环单元",
    "Sequence length (time steps)": "序列长度（时间步数）",
    "Hidden units": "隐藏单元数",
    "Multiplier on the hidden-to-hidden weights (PyTorch default init x gain)": (
        "隐藏到隐藏权重的乘数（PyTorch 默认初始化 × 增益）"
    ),
    "LSTM forget-gate bias at init (sigmoid(b) is the initial forget gate)": (
        "LSTM 遗忘门的初始偏置（sigmoid(b) 即初始遗忘门）"
    ),
    "rnn done": "rnn 完成",
    "lstm done": "lstm 完成",
    "gru done": "gru 完成",
}

CELLS = ("rnn", "lstm", "gru")


def _finite(value: float, cap: float = 1e30) -> float:
    """Overflowed measurements (inf, or NaN from inf - inf) are reported as the cap."""
    return value if math.isfinite(value) else cap


class Params(BaseModel):
    cell: Literal["rnn", "lstm", "gru"] = Field(
        "rnn", description="Recurrent cell the claims are checked on"
    )
    seq_len: int = Field(50, ge=5, le=200, description="Sequence length (time steps)")
    hidden: int = Field(32, ge=4, le=128, description="Hidden units")
    recurrent_gain: float = Field(
        1.0,
        ge=0.1,
        le=8.0,
        description="Multiplier on the hidden-to-hidden weights (PyTorch default init x gain)",
    )
    forget_bias: float = Field(
        1.0,
        ge=-3.0,
        le=6.0,
        description="LSTM forget-gate bias at init (sigmoid(b) is the initial forget gate)",
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    device = torch.device(ctx.device)
    h_dim, t_len, d_in = params.hidden, params.seq_len, 8
    gen = torch.Generator().manual_seed(ctx.seed + 1)
    x_data = torch.randn(16, t_len, d_in, generator=gen).to(device)

    def profile(cell: str) -> list[float]:
        torch.manual_seed(ctx.seed)
        layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](
            d_in, h_dim, batch_first=True
        ).to(device)
        with torch.no_grad():
            layer.weight_hh_l0.mul_(params.recurrent_gain)
            if cell == "lstm":
                # PyTorch orders LSTM gates as input, forget, cell, output.
                layer.bias_ih_l0[h_dim : 2 * h_dim] = params.forget_bias
                layer.bias_hh_l0[h_dim : 2 * h_dim] = 0.0
        x = x_data.clone().requires_grad_(True)
        out, _ = layer(x)
        loss = out[:, -1].pow(2).sum()  # depends on the last hidden state only
        (gx,) = torch.autograd.grad(loss, x)
        return [_finite(float(v)) for v in gx.double().norm(dim=(0, 2)).tolist()]

    profiles = {}
    for i, cell in enumerate(CELLS):
        profiles[cell] = profile(cell)
        ctx.progress((i + 1) / 4, f"{cell} done")

    def ratio(p: list[float]) -> float:
        return p[0] / max(p[-1], 1e-300)

    r = ratio(profiles[params.cell])
    floor, cap = 1e-30, 1e30
    steps = [float(i) for i in range(1, t_len + 1)]
    chart = Chart(
        id="grad-vs-time",
        title=f"||dL/dx_t|| for a loss on the last step (recurrent gain {params.recurrent_gain:g})",
        x_label="time step t",
        y_label="gradient norm",
        log_y=True,
        series=[
            Series(name=cell, x=steps, y=[min(max(v, floor), cap) for v in profiles[cell]])
            for cell in CELLS
        ],
    )
    table = Table(
        title="First-step / last-step gradient ratio",
        columns=["cell", "ratio"],
        rows=[[cell, min(max(ratio(profiles[cell]), 0.0), cap)] for cell in CELLS],
    )
    shown = min(r, cap)
    claims = [
        Claim(
            id="long-range-gradient-vanishes",
            text=CLAIMS["long-range-gradient-vanishes"],
            passed=bool(r < 1e-3),
            values={"first_over_last": shown, "cell": params.cell},
        ),
        Claim(
            id="long-range-gradient-survives",
            text=CLAIMS["long-range-gradient-survives"],
            passed=bool(1e-2 <= r <= 1e2),
            values={"first_over_last": shown, "cell": params.cell},
        ),
        Claim(
            id="long-range-gradient-explodes",
            text=CLAIMS["long-range-gradient-explodes"],
            passed=bool(r > 1e3),
            values={"first_over_last": shown, "cell": params.cell},
        ),
    ]
    return DemoResult(
        summary=(
            f"{params.cell.upper()}, {t_len} steps, recurrent gain {params.recurrent_gain:g}: the "
            "gradient at "
            f"step 1 is {shown:.2e} x the gradient at step {t_len}."
        ),
        summary_zh=(
            f"{params.cell.upper()}，{t_len} 步，循环增益 {params.recurrent_gain:g}："
            f"第 1 步的梯度是第 {t_len} 步梯度的 {shown:.2e} 倍。"
        ),
        metrics={f"{cell}_first_over_last": min(ratio(profiles[cell]), cap) for cell in CELLS},
        tables=[table],
        charts=[chart],
        claims=claims,
    )
