"""Pre-LN vs post-LN Transformer blocks at initialization: residual stream and gradients."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Pre-LN vs post-LN: the residual stream and the gradients at initialization"
TITLE_ZH = "Pre-LN 与 Post-LN：初始化时的残差流与梯度"
DESCRIPTION = (
    "Stacks PyTorch Transformer encoder layers with LayerNorm before (pre-LN) or after "
    "(post-LN) each residual addition, and measures, at initialization, the residual stream's "
    "norm after every block and each block's parameter-gradient norm for one batch."
)
DESCRIPTION_ZH = (
    "堆叠 PyTorch 的 Transformer encoder 层，LayerNorm 放在残差相加之前（pre-LN）或之后"
    "（post-LN），在初始化时测量每个块之后残差流的范数，以及一个 batch 上每个块的参数梯度范数。"
)
CLAIMS = {
    "residual-stream-grows": (
        "With the chosen placement, the residual stream's norm grows with depth: the last "
        "block's output is more than 1.2x the first block's."
    ),
    "block-outputs-normalized": (
        "With the chosen placement, every block's output has per-token norm sqrt(d) (within 1%), "
        "because each block ends with a LayerNorm."
    ),
    "post-ln-top-gradient-larger": (
        "At the chosen depth, post-LN's last-block gradient norm is more than 1.3x pre-LN's: "
        "pre-LN's top gradients shrink as blocks are added, post-LN's do not."
    ),
}
CLAIMS_ZH = {
    "residual-stream-grows": (
        "在所选位置下，残差流的范数随深度增长：最后一个块的输出超过第一个块的 1.2 倍。"
    ),
    "block-outputs-normalized": (
        "在所选位置下，每个块输出的逐 token 范数都是 sqrt(d)（误差 1% 内），因为每个块以 "
        "LayerNorm 结尾。"
    ),
    "post-ln-top-gradient-larger": (
        "在所选深度下，post-LN 最后一个块的梯度范数超过 pre-LN 的 1.3 倍："
        "pre-LN 顶层梯度随块数增加而变小，post-LN 不会。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "residual-stream-grows": "norm = pre",
    "block-outputs-normalized": "norm = post",
    "post-ln-top-gradient-larger": "layers >= 12",
}
CLAIM_SHOWN_WHEN_ZH = {
    "residual-stream-grows": "norm = pre 时",
    "block-outputs-normalized": "norm = post 时",
    "post-ln-top-gradient-larger": "layers >= 12 时",
}
TEXT_ZH = {
    "Residual stream norm after each block": "每个块之后的残差流范数",
    "block": "块",
    "mean per-token norm": "逐 token 范数均值",
    "pre-LN": "pre-LN",
    "post-LN": "post-LN",
    "Parameter-gradient norm per block": "每个块的参数梯度范数",
    "||grad||": "||梯度||",
    "Per block": "逐块数据",
    "pre-LN stream norm": "pre-LN 残差流范数",
    "post-LN stream norm": "post-LN 残差流范数",
    "pre-LN grad norm": "pre-LN 梯度范数",
    "post-LN grad norm": "post-LN 梯度范数",
    "Where LayerNorm sits in each block": "LayerNorm 在每个块中的位置",
    "Number of Transformer blocks": "Transformer 块数",
    "Model width d": "模型宽度 d",
}


class Params(BaseModel):
    norm: Literal["pre", "post"] = Field("pre", description="Where LayerNorm sits in each block")
    layers: int = Field(12, ge=2, le=24, description="Number of Transformer blocks")
    d: int = Field(32, ge=16, le=128, description="Model width d")


def _profile(pre: bool, layers: int, d: int, seed: int, device):  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    torch.manual_seed(seed)
    blocks = nn.ModuleList(
        nn.TransformerEncoderLayer(d, 4, 4 * d, dropout=0.0, batch_first=True, norm_first=pre)
        for _ in range(layers)
    )
    final = nn.LayerNorm(d) if pre else nn.Identity()  # pre-LN needs a final norm
    head = nn.Linear(d, 10)
    model = nn.ModuleList([blocks, final, head]).to(device)
    x = torch.randn(16, 16, d).to(device)
    y = torch.randint(0, 10, (16, 16)).to(device)
    h, stream = x, []
    for block in blocks:
        h = block(h)
        stream.append(float(h.detach().norm(dim=-1).mean()))
    loss = nn.functional.cross_entropy(head(final(h)).reshape(-1, 10), y.reshape(-1))
    loss.backward()
    grads = [
        float(torch.cat([p.grad.flatten() for p in block.parameters()]).norm()) for block in blocks
    ]
    del model
    return stream, grads


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    device = torch.device(ctx.device)
    pre_stream, pre_grads = _profile(True, params.layers, params.d, ctx.seed, device)
    ctx.progress(0.5, "post-LN")
    post_stream, post_grads = _profile(False, params.layers, params.d, ctx.seed, device)
    stream, grads = (pre_stream, pre_grads) if params.norm == "pre" else (post_stream, post_grads)
    growth = stream[-1] / stream[0]
    target = params.d**0.5
    normalized = all(abs(s / target - 1) < 0.01 for s in stream)
    top_ratio = post_grads[-1] / pre_grads[-1]

    xs = [float(i + 1) for i in range(params.layers)]
    charts = [
        Chart(
            id="stream",
            title="Residual stream norm after each block",
            x_label="block",
            y_label="mean per-token norm",
            series=[
                Series(name="pre-LN", x=xs, y=pre_stream),
                Series(name="post-LN", x=xs, y=post_stream),
            ],
        ),
        Chart(
            id="grads",
            title="Parameter-gradient norm per block",
            x_label="block",
            y_label="||grad||",
            series=[
                Series(name="pre-LN", x=xs, y=pre_grads),
                Series(name="post-LN", x=xs, y=post_grads),
            ],
        ),
    ]
    table = Table(
        title="Per block",
        columns=[
            "block",
            "pre-LN stream norm",
            "post-LN stream norm",
            "pre-LN grad norm",
            "post-LN grad norm",
        ],
        rows=[
            [i + 1, a, b, c, e]
            for i, (a, b, c, e) in enumerate(
                zip(pre_stream, post_stream, pre_grads, post_grads, strict=True)
            )
        ],
    )
    claims = [
        Claim(
            id="residual-stream-grows",
            text=CLAIMS["residual-stream-grows"],
            passed=bool(growth > 1.2),
            values={"last_over_first": growth},
        ),
        Claim(
            id="block-outputs-normalized",
            text=CLAIMS["block-outputs-normalized"],
            passed=bool(normalized),
            values={"sqrt_d": target, "first": stream[0], "last": stream[-1]},
        ),
        Claim(
            id="post-ln-top-gradient-larger",
            text=CLAIMS["post-ln-top-gradient-larger"],
            passed=bool(top_ratio > 1.3),
            values={
                "post_over_pre_last_block": top_ratio,
                "pre_last": pre_grads[-1],
                "post_last": post_grads[-1],
            },
        ),
    ]
    return DemoResult(
        summary=(
            f"{params.norm}-LN, {params.layers} blocks: residual stream norm {stream[0]:.1f} -> "
            f"{stream[-1]:.1f}; block gradient norm {grads[0]:.3f} (first) -> {grads[-1]:.3f} "
            f"(last)."
        ),
        summary_zh=(
            f"{params.norm}-LN，{params.layers} 个块：残差流范数 {stream[0]:.1f} -> "
            f"{stream[-1]:.1f}；块梯度范数 {grads[0]:.3f}（第一个）-> {grads[-1]:.3f}（最后一个）。"
        ),
        metrics={
            "stream_first": stream[0],
            "stream_last": stream[-1],
            "grad_first": grads[0],
            "grad_last": grads[-1],
            "post_over_pre_last_grad": top_ratio,
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
