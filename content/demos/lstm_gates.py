"""An LSTM cell by hand: why gates use sigmoid and the candidate and output use tanh."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Inside an LSTM cell: sigmoid gates, tanh values"
DESCRIPTION = (
    "Runs a hand-written LSTM cell with the chosen gate and value activations next to "
    "torch.nn.LSTM "
    "(same weights), and records the gate values and hidden-state magnitudes over a sequence."
)
CLAIMS = {
    "matches-torch-lstm": (
        "The hand-written cell with the configured activations reproduces torch.nn.LSTM's outputs "
        "within 1e-5."
    ),
    "gates-in-unit-interval": (
        "With the configured gate activation, every input, forget and output gate value lies in "
        "[0, 1], "
        "so a gate only scales its signal down, never flips its sign."
    ),
    "hidden-state-bounded": (
        "With the configured activations, every hidden-state entry h_t stays within [-1, 1] over "
        "the whole sequence."
    ),
}
TITLE_ZH = "LSTM 单元内部：sigmoid 门，tanh 值"
DESCRIPTION_ZH = (
    "用所选的门激活和值激活运行手写 LSTM 单元，并与权重相同的 torch.nn.LSTM 对照，记录序列上的门"
    "值和隐藏状态大小。"
)
CLAIMS_ZH = {
    "matches-torch-lstm": "用所设激活的手写单元与 torch.nn.LSTM 的输出相差不超过 1e-5。",
    "gates-in-unit-interval": (
        "在所设门激活下，每个输入门、遗忘门和输出门的值都在 [0, 1] 内，所以门只会缩小信号，不会翻"
        "转符号。"
    ),
    "hidden-state-bounded": "在所设激活下，整个序列上隐藏状态 h_t 的每个分量都在 [-1, 1] 内。",
}


CLAIM_SHOWN_WHEN = {
    "matches-torch-lstm": (
        "gate_activation sigmoid with value_activation tanh (the defaults: what torch.nn.LSTM "
        "computes)"
    ),
    "gates-in-unit-interval": "gate_activation sigmoid",
    "hidden-state-bounded": "gate_activation sigmoid with value_activation tanh",
}
CLAIM_SHOWN_WHEN_ZH = {
    "matches-torch-lstm": (
        "gate_activation 为 sigmoid、value_activation 为 tanh（默认，即 torch.nn.LSTM 的计算）"
    ),
    "gates-in-unit-interval": "gate_activation 为 sigmoid",
    "hidden-state-bounded": "gate_activation 为 sigmoid 且 value_activation 为 tanh",
}
TEXT_ZH = {
    "Activation of the i, f, o gates": "i、f、o 门的激活函数",
    "Activation of the candidate g and of the cell state before the output gate": (
        "候选值 g 和进入输出门前的细胞状态的激活函数"
    ),
    "Standard deviation of the inputs": "输入的标准差",
    "Sequence length": "序列长度",
    "Hidden units": "隐藏单元数",
    "Cell summary": "单元概况",
    "quantity": "量",
    "value": "值",
    "max |manual - torch.nn.LSTM|": "max |手写 - torch.nn.LSTM|",
    "smallest gate value": "最小门值",
    "largest gate value": "最大门值",
    "largest |h_t|": "最大 |h_t|",
    "time step": "时间步",
    "gate value": "门值",
    "max |h_t|": "max |h_t|",
    "min over i, f, o": "i、f、o 的最小值",
    "max over i, f, o": "i、f、o 的最大值",
    "mean forget gate": "遗忘门均值",
}


class Params(BaseModel):
    gate_activation: Literal["sigmoid", "tanh"] = Field(
        "sigmoid", description="Activation of the i, f, o gates"
    )
    value_activation: Literal["tanh", "relu", "identity"] = Field(
        "tanh",
        description="Activation of the candidate g and of the cell state before the output gate",
    )
    input_scale: float = Field(3.0, ge=0.1, le=10.0, description="Standard deviation of the inputs")
    seq_len: int = Field(30, ge=2, le=200, description="Sequence length")
    hidden: int = Field(16, ge=2, le=128, description="Hidden units")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    d_in, h_dim = 8, params.hidden
    lstm = nn.LSTM(d_in, h_dim, batch_first=True).to(device)
    x = (params.input_scale * torch.randn(4, params.seq_len, d_in)).to(device)
    with torch.no_grad():
        reference, _ = lstm(x)

    gate = torch.sigmoid if params.gate_activation == "sigmoid" else torch.tanh
    value = {"tanh": torch.tanh, "relu": torch.relu, "identity": lambda v: v}[
        params.value_activation
    ]
    w_ih, w_hh = lstm.weight_ih_l0.detach(), lstm.weight_hh_l0.detach()
    bias = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach()
    h = torch.zeros(4, h_dim, device=device)
    c = torch.zeros(4, h_dim, device=device)
    outputs, gate_min, gate_max, forget_mean, h_max = [], [], [], [], []
    with torch.no_grad():
        for t in range(params.seq_len):
            z = x[:, t] @ w_ih.T + h @ w_hh.T + bias
            zi, zf, zg, zo = z.chunk(4, dim=1)  # PyTorch's gate order: input, forget, cell, output
            i, f, o = gate(zi), gate(zf), gate(zo)
            g = value(zg)
            c = f * c + i * g
            h = o * value(c)
            outputs.append(h)
            gates = torch.cat([i, f, o], dim=1)
            gate_min.append(float(gates.min().item()))
            gate_max.append(float(gates.max().item()))
            forget_mean.append(float(f.mean().item()))
            h_max.append(float(h.abs().max().item()))
    manual = torch.stack(outputs, dim=1)
    diff = float((manual - reference).abs().max().item())
    lo, hi = min(gate_min), max(gate_max)
    peak_h = max(h_max)
    cap = 1e30
    steps = [float(t + 1) for t in range(params.seq_len)]
    charts = [
        Chart(
            id="gate-range",
            title=f"Range of gate values per step ({params.gate_activation} gates)",
            x_label="time step",
            y_label="gate value",
            series=[
                Series(name="min over i, f, o", x=steps, y=gate_min),
                Series(name="max over i, f, o", x=steps, y=gate_max),
                Series(name="mean forget gate", x=steps, y=forget_mean),
            ],
        ),
        Chart(
            id="hidden-magnitude",
            title=f"max |h_t| per step ({params.value_activation} values)",
            x_label="time step",
            y_label="max |h_t|",
            series=[Series(name="max |h_t|", x=steps, y=[min(v, cap) for v in h_max])],
        ),
    ]
    table = Table(
        title="Cell summary",
        columns=["quantity", "value"],
        rows=[
            ["max |manual - torch.nn.LSTM|", min(diff, cap)],
            ["smallest gate value", lo],
            ["largest gate value", hi],
            ["largest |h_t|", min(peak_h, cap)],
        ],
    )
    claims = [
        Claim(
            id="matches-torch-lstm",
            text=CLAIMS["matches-torch-lstm"],
            passed=bool(diff < 1e-5),
            values={
                "max_abs_diff": min(diff, cap),
                "gate_activation": params.gate_activation,
                "value_activation": params.value_activation,
            },
        ),
        Claim(
            id="gates-in-unit-interval",
            text=CLAIMS["gates-in-unit-interval"],
            passed=bool(lo >= 0.0 and hi <= 1.0),
            values={"min_gate": lo, "max_gate": hi, "gate_activation": params.gate_activation},
        ),
        Claim(
            id="hidden-state-bounded",
            text=CLAIMS["hidden-state-bounded"],
            passed=bool(peak_h <= 1.0),
            values={"max_abs_h": min(peak_h, cap), "value_activation": params.value_activation},
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"{params.gate_activation} 门 / {params.value_activation} 值：门值范围 [{lo:.2f}, "
            f"{hi:.2f}]，max |h| = {min(peak_h, cap):.3g}，与 torch.nn.LSTM 相差 "
            f"{min(diff, cap):.1e}。"
        ),
        summary=(
            f"{params.gate_activation} gates / {params.value_activation} values: gates span "
            f"[{lo:.2f}, {hi:.2f}], "
            f"max |h| = {min(peak_h, cap):.3g}, difference from torch.nn.LSTM {min(diff, cap):.1e}."
        ),
        metrics={
            "max_abs_diff": min(diff, cap),
            "min_gate": lo,
            "max_gate": hi,
            "max_abs_h": min(peak_h, cap),
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
