"""ViT patch embedding: a strided conv is a linear map of flattened patches; token costs."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "ViT patch embedding, tokens and shift equivariance"
TITLE_ZH = "ViT 的图块嵌入、token 数和平移等变性"
DESCRIPTION = (
    "Embeds an image into patch tokens with a Conv2d(kernel = stride = P) and with an explicit "
    "unfold + Linear, counts tokens and attention cost, shifts the image to test equivariance, "
    "and masks 75% of the tokens as MAE does."
)
DESCRIPTION_ZH = (
    "用 Conv2d（kernel = stride = P）和显式的 unfold + Linear 两种方式把图像嵌入成图块 token，"
    "统计 token 数和注意力开销，平移图像检验等变性，并像 MAE 一样遮住 75% 的 token。"
)
CLAIMS = {
    "conv-equals-linear-on-patches": (
        "A Conv2d with kernel = stride = P equals a Linear layer applied to each flattened "
        "P x P x C patch (same weights, outputs equal to 1e-5)."
    ),
    "token-count-and-attention-cost": (
        "An H x W image gives N = HW / P^2 tokens; halving P quadruples N and multiplies the "
        "attention matrix size N^2 by 16."
    ),
    "off-grid-shift-breaks-equivariance": (
        "Shifting the image by a number of pixels that is not a multiple of P changes the patch "
        "tokens into something that is not a shifted copy (a conv feature map shifts exactly)."
    ),
    "mae-encoder-sees-quarter": (
        "With a 75% mask ratio the MAE encoder processes N/4 tokens, so its attention matrices "
        "are 1/16 the size."
    ),
}
CLAIMS_ZH = {
    "conv-equals-linear-on-patches": (
        "kernel = stride = P 的 Conv2d 等于对每个展平的 P x P x C 图块做同一个 Linear（权重相"
        "同，输出误差 1e-5 以内）。"
    ),
    "token-count-and-attention-cost": (
        "H x W 的图像得到 N = HW / P^2 个 token；P 减半则 N 变为 4 倍，注意力矩阵大小 N^2 变为"
        " 16 倍。"
    ),
    "off-grid-shift-breaks-equivariance": (
        "把图像平移一个不是 P 整数倍的像素数后，图块 token 不再是原 token 的平移副本（卷积特征"
        "图则精确平移）。"
    ),
    ("mae-encoder-sees-quarter"): (
        "掩码率 75% 时 MAE 编码器只处理 N/4 个 token，注意力矩阵只有 1/16 大小。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "conv-equals-linear-on-patches": "always: it does not depend on the parameters",
    "token-count-and-attention-cost": "always: it does not depend on the parameters",
    "mae-encoder-sees-quarter": "always: it does not depend on the parameters",
    "off-grid-shift-breaks-equivariance": "shift not a multiple of patch",
}
CLAIM_SHOWN_WHEN_ZH = {
    "conv-equals-linear-on-patches": "总成立：与参数无关",
    "token-count-and-attention-cost": "总成立：与参数无关",
    "mae-encoder-sees-quarter": "总成立：与参数无关",
    "off-grid-shift-breaks-equivariance": "shift 不是 patch 的整数倍",
}
TEXT_ZH = {
    "Patch size P": "图块大小 P",
    "Image height and width": "图像高和宽",
    "Embedding dimension": "嵌入维度",
    "Pixels to shift the image by": "图像平移的像素数",
    "Tokens and attention cost per patch size": "不同图块大小的 token 数和注意力开销",
    "patch size": "图块大小",
    "count (log scale)": "数量（对数坐标）",
    "tokens N": "token 数 N",
    "attention entries N^2": "注意力矩阵元素 N^2",
    "Equivariance under a shift": "平移下的等变性",
    "features": "特征",
    "relative error vs shifted copy": "与平移副本的相对误差",
}


class Params(BaseModel):
    patch: int = Field(8, ge=2, le=16, description="Patch size P")
    image: int = Field(32, ge=16, le=64, description="Image height and width")
    dim: int = Field(32, ge=8, le=128, description="Embedding dimension")
    shift: int = Field(1, ge=1, le=16, description="Pixels to shift the image by")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    p, size, d = params.patch, params.image - params.image % params.patch, params.dim
    embed = nn.Conv2d(3, d, p, stride=p).to(ctx.device)
    x = torch.randn(1, 3, size, size).to(ctx.device)
    with torch.no_grad():
        tokens = embed(x).flatten(2).transpose(1, 2)  # (1, N, d)
        patches = x.unfold(2, p, p).unfold(3, p, p)  # (1, 3, H/P, W/P, P, P)
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(1, -1, 3 * p * p)
        linear = patches @ embed.weight.reshape(d, -1).T + embed.bias
    diff = float((tokens - linear).abs().max())
    n = tokens.shape[1]

    # Shift with wrap-around so no content leaves the image; compare with the shifted features.
    s = params.shift
    shifted = torch.roll(x, shifts=s, dims=3)
    conv = nn.Conv2d(3, d, 3, padding=1, padding_mode="circular").to(ctx.device)
    with torch.no_grad():
        grid = embed(shifted)
        base = embed(x)
        conv_err = float(
            (conv(shifted) - torch.roll(conv(x), shifts=s, dims=3)).norm() / conv(x).norm()
        )
        if s % p == 0:
            patch_err = float((grid - torch.roll(base, shifts=s // p, dims=3)).norm() / base.norm())
        else:  # best match over every whole-token shift
            patch_err = min(
                float((grid - torch.roll(base, shifts=t, dims=3)).norm() / base.norm())
                for t in range(base.shape[-1])
            )
    half = max(1, p // 2)
    n_half = (size // half) ** 2
    keep = n // 4
    torch.manual_seed(ctx.seed)
    kept = torch.randperm(n)[:keep]
    patch_sizes = [q for q in (2, 4, 8, 16) if size % q == 0]
    chart = Chart(
        id="tokens",
        title="Tokens and attention cost per patch size",
        kind="bar",
        x_label="patch size",
        y_label="count (log scale)",
        log_y=True,
        categories=[str(q) for q in patch_sizes],
        series=[
            Series(
                name="tokens N",
                x=[float(q) for q in patch_sizes],
                y=[float((size // q) ** 2) for q in patch_sizes],
            ),
            Series(
                name="attention entries N^2",
                x=[float(q) for q in patch_sizes],
                y=[float((size // q) ** 4) for q in patch_sizes],
            ),
        ],
    )
    table = Table(
        title="Equivariance under a shift",
        columns=["features", "relative error vs shifted copy"],
        rows=[["3x3 conv (stride 1)", conv_err], [f"patch tokens (P={p})", patch_err]],
    )
    claims = [
        Claim(
            id="conv-equals-linear-on-patches",
            text=CLAIMS["conv-equals-linear-on-patches"],
            passed=diff < 1e-5,
            values={"max_abs_diff": diff},
        ),
        Claim(
            id="token-count-and-attention-cost",
            text=CLAIMS["token-count-and-attention-cost"],
            passed=n == (size // p) ** 2 and (p < 2 or n_half == 4 * n) and (p % 2 == 0),
            values={"tokens": n, "tokens_at_half_patch": n_half},
        ),
        Claim(
            id="off-grid-shift-breaks-equivariance",
            text=CLAIMS["off-grid-shift-breaks-equivariance"],
            passed=patch_err > 0.1 and conv_err < 1e-5,
            values={"patch_token_error": patch_err, "conv_error": conv_err},
        ),
        Claim(
            id="mae-encoder-sees-quarter",
            text=CLAIMS["mae-encoder-sees-quarter"],
            passed=len(kept) * 4 == n and (len(kept) / n) ** 2 == 1 / 16,
            values={"tokens": n, "encoder_tokens": len(kept)},
        ),
    ]
    return DemoResult(
        summary=f"{size}x{size} image, P={p}: {n} tokens (P/2 gives {n_half}); conv vs "
        "unfold+Linear "
        "differ by "
        f"{diff:.1e}; a {s}-pixel shift leaves patch tokens {patch_err:.2f} off a shifted copy.",
        summary_zh=f"{size}x{size} 图像、P={p}：{n} 个 token（P/2 时 {n_half} 个）；卷积与 "
        "unfold+Linear "
        "相差 "
        f"{diff:.1e}；平移 {s} 个像素后图块 token 与平移副本的相对误差为 {patch_err:.2f}。",
        metrics={
            "tokens": n,
            "max_abs_diff": diff,
            "patch_shift_error": patch_err,
            "conv_shift_error": conv_err,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
