"""Max and average pooling: the classic 4x4 example, where gradients go, how much size is lost."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Pooling: forward and backward"
DESCRIPTION = (
    "Pools the classic 4x4 example and a random feature map with max or average pooling, then "
    "backpropagates a gradient of ones to see which inputs receive it."
)
CLAIMS = {
    "classic-example-gives-6-8-3-4": (
        "The configured pooling of the 4x4 map [[1,1,2,4],[5,6,7,8],[3,2,1,0],[1,2,3,4]] gives "
        "[[6,8],[3,4]] (this is 2x2 max pooling with stride 2)."
    ),
    "gradient-goes-to-one-input-per-window": (
        "In the configured pooling, each output window passes its gradient to a single input "
        "position (the max), not spread over the window."
    ),
    "pooling-halves-resolution": (
        "The configured pooling at least halves the height and width of a 16x16 feature map, "
        "with no learnable parameters."
    ),
}
TITLE_ZH = "池化：前向与反向"
DESCRIPTION_ZH = (
    "对经典的 4x4 示例和一个随机特征图做最大池化或平均池化，再反传全为 1 的梯度，看哪些输入收到梯"
    "度。"
)
CLAIMS_ZH = {
    "classic-example-gives-6-8-3-4": (
        "对 4x4 图 [[1,1,2,4],[5,6,7,8],[3,2,1,0],[1,2,3,4]] 做所设池化得到 [[6,8],[3,4]]（这是步"
        "幅 2 的 2x2 最大池化）。"
    ),
    "gradient-goes-to-one-input-per-window": (
        "在所设池化中，每个输出窗口把梯度只传给一个输入位置（最大值），而不是分散到整个窗口。"
    ),
    "pooling-halves-resolution": "所设池化把 16x16 特征图的高和宽至少减半，且没有可学习参数。",
}


CLAIM_SHOWN_WHEN = {
    "classic-example-gives-6-8-3-4": "mode max with kernel 2 and stride 2 (the defaults)",
    "gradient-goes-to-one-input-per-window": "mode max",
    "pooling-halves-resolution": "stride >= 2",
}
CLAIM_SHOWN_WHEN_ZH = {
    "classic-example-gives-6-8-3-4": "mode 为 max、kernel 2、stride 2（默认设置）",
    "gradient-goes-to-one-input-per-window": "mode 为 max",
    "pooling-halves-resolution": "stride >= 2",
}
TEXT_ZH = {
    "Max pooling or average pooling": "最大池化或平均池化",
    "Window size": "窗口大小",
    "Stride": "步幅",
    "Input gradient along one row (gradient of ones from the output)": (
        "一行输入上的梯度（输出端梯度全为 1）"
    ),
    "input column": "输入列",
    "dL/dx": "dL/dx",
    "Classic 4x4 example": "经典 4x4 例子",
    "configured pooling": "所设池化",
    "2x2 max pool, stride 2": "2x2 最大池化，步幅 2",
}


class Params(BaseModel):
    mode: Literal["max", "avg"] = Field("max", description="Max pooling or average pooling")
    kernel: int = Field(2, ge=1, le=4, description="Window size")
    stride: int = Field(2, ge=1, le=4, description="Stride")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    import torch.nn.functional as F

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)

    def pool(t: torch.Tensor) -> torch.Tensor:
        if params.mode == "max":
            return F.max_pool2d(t, params.kernel, params.stride)
        return F.avg_pool2d(t, params.kernel, params.stride)

    classic = torch.tensor(
        [[1.0, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], device=device
    )
    out_classic = pool(classic.view(1, 1, 4, 4))[0, 0]
    expected = torch.tensor([[6.0, 8], [3, 4]], device=device)
    classic_ok = out_classic.shape == expected.shape and torch.equal(out_classic, expected)

    ctx.progress(0.4, "backward through pooling")
    x = torch.randn(1, 1, 16, 16).to(device).requires_grad_()
    y = pool(x)
    y.sum().backward()
    g = x.grad[0, 0]
    n_out = y.numel()
    nonzero = int((g != 0).sum().item())
    # Each window sends its whole gradient (1) to one position: <= 1 nonzero per window, sum n_out.
    one_per_window = (
        nonzero <= n_out
        and abs(float(g.sum().item()) - n_out) < 1e-4
        and bool(((g == 0) | (g >= 1 - 1e-6)).all())
    )
    halves = y.shape[-1] <= 8 and y.shape[-2] <= 8

    rows = [[str(out_classic.tolist()), str(expected.tolist())]]
    chart = Chart(
        id="gradient-row",
        title="Input gradient along one row (gradient of ones from the output)",
        x_label="input column",
        y_label="dL/dx",
        series=[
            Series(
                name=f"{params.mode} pool",
                x=[float(i) for i in range(16)],
                y=[float(v) for v in g[0].tolist()],
            )
        ],
    )
    claims = [
        Claim(
            id="classic-example-gives-6-8-3-4",
            text=CLAIMS["classic-example-gives-6-8-3-4"],
            passed=bool(classic_ok),
            values={"output": str(out_classic.tolist()), "mode": params.mode},
        ),
        Claim(
            id="gradient-goes-to-one-input-per-window",
            text=CLAIMS["gradient-goes-to-one-input-per-window"],
            passed=bool(one_per_window),
            values={
                "outputs": n_out,
                "inputs_with_gradient": nonzero,
                "gradient_sum": float(g.sum().item()),
            },
        ),
        Claim(
            id="pooling-halves-resolution",
            text=CLAIMS["pooling-halves-resolution"],
            passed=bool(halves),
            values={"output_height": int(y.shape[-2]), "output_width": int(y.shape[-1])},
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"{params.mode} 池化，kernel {params.kernel}，stride {params.stride}：16x16 -> "
            f"{y.shape[-2]}x{y.shape[-1]}；256 个输入中有 {nonzero} 个收到梯度。"
        ),
        summary=(
            f"{params.mode} pooling, kernel {params.kernel}, stride {params.stride}: 16x16 -> "
            f"{y.shape[-2]}x{y.shape[-1]}; {nonzero} of 256 inputs receive gradient."
        ),
        metrics={
            "output_size": int(y.shape[-1]),
            "inputs_with_gradient": nonzero,
            "learnable_parameters": 0,
        },
        tables=[
            Table(
                title="Classic 4x4 example",
                columns=["configured pooling", "2x2 max pool, stride 2"],
                rows=rows,
            )
        ],
        charts=[chart],
        claims=claims,
    )
