"""What takes the memory in training: weights, gradients, optimizer states, counted in bytes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Training memory per parameter: weights, gradients, optimizer states"
TITLE_ZH = "训练时每个参数占多少显存：权重、梯度、优化器状态"
DESCRIPTION = (
    "Builds an MLP, takes one optimizer step, and adds up the bytes of every tensor the "
    "optimizer and the mixed-precision recipe keep: fp32 master weights, 16-bit working "
    "weights and gradients, and the optimizer's state."
)
DESCRIPTION_ZH = (
    "构建一个 MLP，做一步优化器更新，把优化器和混合精度方案保存的每个张量的字节数加起来："
    "fp32 主权重、16 位的工作权重和梯度，以及优化器状态。"
)
CLAIMS = {
    "adam-states-are-8-bytes-per-parameter": (
        "After one step, the optimizer's state tensors hold 8 bytes per parameter (two fp32 "
        "moments)."
    ),
    "mixed-precision-adam-is-16-bytes-per-parameter": (
        "fp32 master weights + fp16 weights + fp16 gradients + optimizer states add up to 16 "
        "bytes per parameter, before any activation."
    ),
}
CLAIMS_ZH = {
    "adam-states-are-8-bytes-per-parameter": (
        "一步更新之后，优化器状态张量每个参数占 8 字节（两个 fp32 矩）。"
    ),
    "mixed-precision-adam-is-16-bytes-per-parameter": (
        "fp32 主权重 + fp16 权重 + fp16 梯度 + 优化器状态合计每个参数 16 字节，还没算激活。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "adam-states-are-8-bytes-per-parameter": "optimizer = adam or adamw",
    "mixed-precision-adam-is-16-bytes-per-parameter": "optimizer = adam or adamw",
}
CLAIM_SHOWN_WHEN_ZH = {
    "adam-states-are-8-bytes-per-parameter": "optimizer = adam 或 adamw",
    "mixed-precision-adam-is-16-bytes-per-parameter": "optimizer = adam 或 adamw",
}
TEXT_ZH = {
    "Bytes per parameter": "每个参数的字节数",
    "component": "组成部分",
    "bytes / parameter": "字节 / 参数",
    "fp32 master weights": "fp32 主权重",
    "fp16 weights": "fp16 权重",
    "fp16 gradients": "fp16 梯度",
    "optimizer states": "优化器状态",
    "Memory breakdown": "显存构成",
    "bytes": "字节数",
    "Optimizer": "优化器",
    "Hidden width": "隐藏层宽度",
}


class Params(BaseModel):
    optimizer: Literal["adam", "adamw", "sgd-momentum", "sgd"] = Field(
        "adam", description="Optimizer"
    )
    width: int = Field(256, ge=16, le=1024, description="Hidden width")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    w = params.width
    master = nn.Sequential(nn.Linear(w, w), nn.ReLU(), nn.Linear(w, w)).to(device)
    n_params = sum(p.numel() for p in master.parameters())
    opt_cls = {
        "adam": lambda ps: torch.optim.Adam(ps, lr=1e-3),
        "adamw": lambda ps: torch.optim.AdamW(ps, lr=1e-3),
        "sgd-momentum": lambda ps: torch.optim.SGD(ps, lr=1e-2, momentum=0.9),
        "sgd": lambda ps: torch.optim.SGD(ps, lr=1e-2),
    }[params.optimizer]
    opt = opt_cls(list(master.parameters()))

    # The mixed-precision recipe: a 16-bit working copy runs forward and backward; its
    # gradients are copied into the fp32 master weights, which the optimizer updates.
    half = [p.detach().to(torch.float16) for p in master.parameters()]
    half_grads = [torch.randn(p.shape).to(device).to(torch.float16) for p in half]
    for p, g in zip(master.parameters(), half_grads, strict=True):
        p.grad = g.float()
    opt.step()

    def nbytes(tensors: list[torch.Tensor]) -> int:
        return sum(t.numel() * t.element_size() for t in tensors)

    state_tensors = [
        v
        for state in opt.state.values()
        for v in state.values()
        if isinstance(v, torch.Tensor) and v.numel() > 1
    ]
    parts = {
        "fp32 master weights": nbytes(list(master.parameters())),
        "fp16 weights": nbytes(half),
        "fp16 gradients": nbytes(half_grads),
        "optimizer states": nbytes(state_tensors),
    }
    per_param = {k: v / n_params for k, v in parts.items()}
    total = sum(per_param.values())

    claims = [
        Claim(
            id="adam-states-are-8-bytes-per-parameter",
            text=CLAIMS["adam-states-are-8-bytes-per-parameter"],
            passed=abs(per_param["optimizer states"] - 8.0) < 1e-9,
            values={"optimizer_bytes_per_param": per_param["optimizer states"]},
        ),
        Claim(
            id="mixed-precision-adam-is-16-bytes-per-parameter",
            text=CLAIMS["mixed-precision-adam-is-16-bytes-per-parameter"],
            passed=abs(total - 16.0) < 1e-9,
            values={"total_bytes_per_param": total},
        ),
    ]
    names = list(parts)
    chart = Chart(
        id="bytes-per-param",
        title="Bytes per parameter",
        kind="bar",
        x_label="component",
        y_label="bytes / parameter",
        categories=names,
        series=[
            Series(name="bytes / parameter", x=list(range(len(names))), y=list(per_param.values()))
        ],
    )
    table = Table(
        title="Memory breakdown",
        columns=["component", "bytes", "bytes / parameter"],
        rows=[[k, parts[k], per_param[k]] for k in names],
    )
    return DemoResult(
        summary=(
            f"{n_params} parameters with {params.optimizer}: {total:.0f} bytes per parameter "
            f"({per_param['optimizer states']:.0f} of them optimizer state), before activations."
        ),
        summary_zh=(
            f"{n_params} 个参数，优化器 {params.optimizer}：每个参数 {total:.0f} 字节"
            f"（其中优化器状态 {per_param['optimizer states']:.0f} 字节），不含激活。"
        ),
        metrics={
            "parameters": n_params,
            "bytes_per_parameter": total,
            **{k.replace(" ", "_") + "_bytes": v for k, v in parts.items()},
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
