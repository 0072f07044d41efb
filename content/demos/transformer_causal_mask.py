"""Causal and padding masks: perturb what a position must not see, and measure its output."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Causal and padding masks: what leaks without them"
TITLE_ZH = "因果掩码与 padding 掩码：不加会泄露什么"
DESCRIPTION = (
    "Runs a small random two-layer self-attention stack, changes the tokens after position t "
    "(or the padding), and measures how much each position's output moves, with and without "
    "the mask."
)
DESCRIPTION_ZH = (
    "用一个随机初始化的两层自注意力网络，修改位置 t 之后的 token（或 padding 的内容），"
    "测量每个位置的输出变化多少，比较加掩码和不加掩码。"
)
CLAIMS = {
    "future-tokens-do-not-leak": (
        "With the chosen mask, replacing every token after position t leaves the outputs at "
        "positions up to t unchanged (max change below 1e-5)."
    ),
    "padding-does-not-leak": (
        "With the chosen padding handling, replacing the padding vectors leaves the real tokens' "
        "outputs unchanged (max change below 1e-5)."
    ),
    "masked-weights-exactly-zero": (
        "With the chosen mask, every attention weight on a future position is exactly 0 and "
        "each row still sums to 1."
    ),
}
CLAIMS_ZH = {
    "future-tokens-do-not-leak": (
        "在所选掩码下，替换位置 t 之后的所有 token，位置 t 及之前的输出不变（最大变化小于 1e-5）。"
    ),
    "padding-does-not-leak": (
        "在所选 padding 处理下，替换 padding 向量，真实 token 的输出不变（最大变化小于 1e-5）。"
    ),
    "masked-weights-exactly-zero": (
        "在所选掩码下，未来位置上的注意力权重都恰好为 0，每行仍然和为 1。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "future-tokens-do-not-leak": "mask = causal",
    "padding-does-not-leak": "padding_mask on",
    "masked-weights-exactly-zero": "mask = causal",
}
CLAIM_SHOWN_WHEN_ZH = {
    "future-tokens-do-not-leak": "mask = causal 时",
    "padding-does-not-leak": "开启 padding_mask 时",
    "masked-weights-exactly-zero": "mask = causal 时",
}
TEXT_ZH = {
    "Output change per position after perturbing tokens after t": (
        "修改 t 之后的 token 后各位置的输出变化"
    ),
    "position": "位置",
    "max |change|": "最大 |变化|",
    "causal mask": "因果掩码",
    "no mask": "无掩码",
    "Leak per setting": "各设置下的泄露",
    "setting": "设置",
    "max change at positions <= t": "位置 <= t 的最大变化",
    "max change on real tokens": "真实 token 的最大变化",
    "Attention mask over future positions": "对未来位置的注意力掩码",
    "Mask padded keys out of attention": "把 padding 的 key 从注意力中屏蔽",
    "Sequence length (real tokens)": "序列长度（真实 token）",
    "Last position that must not see the change (t)": "不应看到变化的最后位置 t",
    "Padding positions added": "添加的 padding 位置数",
    "Where the padding goes (left padding is usual for batched decoding)": (
        "padding 加在哪一侧（批量解码通常左侧 padding）"
    ),
    "Model width": "模型宽度",
}


class Params(BaseModel):
    mask: Literal["causal", "none"] = Field(
        "causal", description="Attention mask over future positions"
    )
    padding_mask: bool = Field(True, description="Mask padded keys out of attention")
    seq_len: int = Field(12, ge=4, le=64, description="Sequence length (real tokens)")
    t: int = Field(5, ge=0, le=62, description="Last position that must not see the change (t)")
    pad: int = Field(4, ge=1, le=32, description="Padding positions added")
    pad_side: Literal["left", "right"] = Field(
        "left", description="Where the padding goes (left padding is usual for batched decoding)"
    )
    d_model: int = Field(32, ge=8, le=128, description="Model width")


def _make_model(d_model: int):  # type: ignore[no-untyped-def]
    from torch import nn

    layers = nn.ModuleList(
        nn.MultiheadAttention(d_model, num_heads=4, batch_first=True) for _ in range(2)
    )
    return layers.eval()


def _forward(layers, x, causal: bool, key_is_pad):  # type: ignore[no-untyped-def]
    import torch

    n = x.shape[1]
    blocked = torch.zeros(n, n, dtype=torch.bool, device=x.device)
    if causal:
        blocked |= torch.triu(torch.ones(n, n, dtype=torch.bool, device=x.device), diagonal=1)
    if key_is_pad is not None:
        blocked |= key_is_pad.view(1, n)
    # A large finite negative, not -inf: a padding query whose every key is blocked then gets
    # a finite (ignored) row instead of NaN, and NaN cannot spread into real tokens.
    attn_mask = torch.zeros(n, n, device=x.device).masked_fill(blocked, -1e9)
    weights = []
    for layer in layers:
        out, w = layer(x, x, x, attn_mask=attn_mask, need_weights=True)
        x = x + out  # residual stream
        weights.append(w)
    return x, weights


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    if params.t >= params.seq_len - 1:
        raise ValueError(f"t must be below seq_len - 1 ({params.seq_len - 1}), got {params.t}")
    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    n, d = params.seq_len, params.d_model
    layers = _make_model(d).to(device)
    x = torch.randn(1, n, d)
    x_future = x.clone()
    x_future[:, params.t + 1 :] = torch.randn(1, n - params.t - 1, d)
    pad_a = torch.randn(1, params.pad, d)
    pad_b = torch.randn(1, params.pad, d) * 3.0
    x, x_future, pad_a, pad_b = (v.to(device) for v in (x, x_future, pad_a, pad_b))

    with torch.no_grad():
        change = {}
        for name, causal in (("causal", True), ("none", False)):
            y0, w0 = _forward(layers, x, causal, None)
            y1, _ = _forward(layers, x_future, causal, None)
            change[name] = (y1 - y0).abs().amax(dim=(0, 2)).cpu()
            if causal == (params.mask == "causal"):
                weights = w0
        ctx.progress(0.6, "padding")
        causal = params.mask == "causal"
        left = params.pad_side == "left"
        real = slice(params.pad, None) if left else slice(0, n)
        key_padding = torch.ones(n + params.pad, dtype=torch.bool, device=device)
        key_padding[real] = False
        kp = key_padding if params.padding_mask else None
        outs = []
        for pad in (pad_a, pad_b):
            seq = torch.cat([pad, x] if left else [x, pad], dim=1)
            outs.append(_forward(layers, seq, causal, kp)[0][:, real])
        pad_leak = float((outs[0] - outs[1]).abs().max().item())

    chosen = change[params.mask]
    leak_past = float(chosen[: params.t + 1].max().item())
    future = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1).to(device)
    w_future = max(float(w[0][future].abs().max().item()) for w in weights)
    row_sum_err = max(float((w[0].sum(-1) - 1).abs().max().item()) for w in weights)
    positions = [float(i) for i in range(n)]
    chart = Chart(
        id="leak",
        title="Output change per position after perturbing tokens after t",
        x_label="position",
        y_label="max |change|",
        log_y=True,
        series=[
            Series(
                name="causal mask", x=positions, y=[max(float(v), 1e-12) for v in change["causal"]]
            ),
            Series(name="no mask", x=positions, y=[max(float(v), 1e-12) for v in change["none"]]),
        ],
    )
    table = Table(
        title="Leak per setting",
        columns=["setting", "max change at positions <= t", "max change on real tokens"],
        rows=[
            [f"mask={params.mask}, padding_mask={params.padding_mask}", leak_past, pad_leak],
            ["causal (reference)", float(change["causal"][: params.t + 1].max()), ""],
            ["none (reference)", float(change["none"][: params.t + 1].max()), ""],
        ],
    )
    claims = [
        Claim(
            id="future-tokens-do-not-leak",
            text=CLAIMS["future-tokens-do-not-leak"],
            passed=bool(leak_past < 1e-5),
            values={"max_change_up_to_t": leak_past, "t": params.t},
        ),
        Claim(
            id="padding-does-not-leak",
            text=CLAIMS["padding-does-not-leak"],
            passed=bool(pad_leak < 1e-5),
            values={"max_change_real_tokens": pad_leak},
        ),
        Claim(
            id="masked-weights-exactly-zero",
            text=CLAIMS["masked-weights-exactly-zero"],
            passed=bool(w_future == 0.0 and row_sum_err < 1e-5),
            values={"max_future_weight": w_future, "row_sum_error": row_sum_err},
        ),
    ]
    return DemoResult(
        summary=(
            f"mask={params.mask}: changing tokens after t={params.t} moves outputs at positions "
            f"<= t by {leak_past:.2e}; padding_mask={params.padding_mask}: changing the padding "
            f"moves real tokens by {pad_leak:.2e}."
        ),
        summary_zh=(
            f"mask={params.mask}：修改 t={params.t} 之后的 token，位置 <= t 的输出变化 "
            f"{leak_past:.2e}；padding_mask={params.padding_mask}：修改 padding，真实 token 变化 "
            f"{pad_leak:.2e}。"
        ),
        metrics={
            "max_change_up_to_t": leak_past,
            "max_change_up_to_t_unmasked": float(change["none"][: params.t + 1].max()),
            "padding_leak": pad_leak,
            "max_future_weight": w_future,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
