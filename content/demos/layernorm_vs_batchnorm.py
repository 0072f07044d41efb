"""LayerNorm vs BatchNorm on padded token sequences: which axis the statistics come from."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "LayerNorm vs BatchNorm on sequences"
DESCRIPTION = (
    "Normalizes a padded batch of token vectors (batch, time, features) with LayerNorm (per "
    "token, over "
    "features) or training-mode BatchNorm (per feature, over batch and time), and checks what "
    "each output "
    "depends on."
)
CLAIMS = {
    "output-independent-of-batch": (
        "With the configured normalization, a sequence's outputs are unchanged (within 1e-5) when "
        "the other "
        "sequences in the batch are replaced."
    ),
    "real-tokens-unaffected-by-padding": (
        "With the configured normalization, adding extra padding positions to the batch leaves "
        "the outputs "
        "of real tokens unchanged (within 1e-5)."
    ),
    "per-token-normalized": (
        "With the configured normalization, every token's output vector has mean 0 and standard "
        "deviation 1 "
        "across its features (within 1e-3)."
    ),
}
TITLE_ZH = "序列上的 LayerNorm 与 BatchNorm"
DESCRIPTION_ZH = (
    "对一批带填充的词向量 (batch, time, features) 做 LayerNorm（每个词元，在特征上）或训练模式的 "
    "BatchNorm（每个特征，在批次和时间上），检查各自的输出依赖什么。"
)
CLAIMS_ZH = {
    "output-independent-of-batch": (
        "在所设归一化下，替换批中其他序列时，一个序列的输出不变（相差不超过 1e-5）。"
    ),
    "real-tokens-unaffected-by-padding": (
        "在所设归一化下，向批次添加额外的填充位置不改变真实词元的输出（相差不超过 1e-5）。"
    ),
    "per-token-normalized": (
        "在所设归一化下，每个词元的输出向量在其特征上均值为 0、标准差为 1（误差 1e-3 以内）。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "output-independent-of-batch": "norm layer",
    "real-tokens-unaffected-by-padding": "norm layer",
    "per-token-normalized": "norm layer",
}
CLAIM_SHOWN_WHEN_ZH = {
    "output-independent-of-batch": "norm 为 layer",
    "real-tokens-unaffected-by-padding": "norm 为 layer",
    "per-token-normalized": "norm 为 layer",
}
TEXT_ZH = {
    "LayerNorm or training-mode BatchNorm": "LayerNorm 或训练模式的 BatchNorm",
    "Features per token": "每个 token 的特征数",
    "Sequences per batch": "每批序列数",
    "Longest real sequence length": "最长真实序列长度",
    "Padding positions appended in the padding check": "填充检查中追加的填充位置数",
    "What the output depends on": "输出依赖什么",
    "check": "检查项",
    "max change / error": "最大变化 / 误差",
    "sequence 0 output, companions replaced": "替换同批其他序列后序列 0 的输出",
    "|mean over features| per token": "每个 token 在特征上的 |均值|",
    "|std over features - 1| per token": "每个 token 在特征上的 |标准差 - 1|",
    "feature": "特征",
    "normalized value": "归一化后的值",
    "Mean of each feature over real tokens (BatchNorm with padding moves it off 0)": (
        "每个特征在真实 token 上的均值（带填充的 BatchNorm 会使它偏离 0）"
    ),
    "mean": "均值",
    "original batch": "原始批次",
    "companions replaced": "替换同批序列后",
}


class Params(BaseModel):
    norm: Literal["layer", "batch"] = Field(
        "layer", description="LayerNorm or training-mode BatchNorm"
    )
    d_model: int = Field(32, ge=4, le=256, description="Features per token")
    batch_size: int = Field(8, ge=2, le=64, description="Sequences per batch")
    seq_len: int = Field(16, ge=2, le=128, description="Longest real sequence length")
    extra_padding: int = Field(
        8, ge=1, le=64, description="Padding positions appended in the padding check"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    d, b, t = params.d_model, params.batch_size, params.seq_len
    eps = 1e-5

    def normalize(x: torch.Tensor) -> torch.Tensor:
        """x: (batch, time, features). Affine parameters left at gamma=1, beta=0."""
        if params.norm == "layer":
            return nn.functional.layer_norm(x, (d,), eps=eps)
        # BatchNorm1d wants (batch, features, time); statistics per feature over batch and time,
        # padding positions included, as a naive implementation would do.
        return nn.functional.batch_norm(
            x.transpose(1, 2), None, None, training=True, eps=eps
        ).transpose(1, 2)

    # Token vectors with a per-feature offset and scale, and random lengths; padding is zeros.
    offset = 2.0 * torch.randn(d)
    scale = 0.5 + torch.rand(d)
    lengths = torch.randint(low=max(1, t // 2), high=t + 1, size=(b,))
    lengths[0] = t

    def make_batch(n: int, length: int) -> torch.Tensor:
        x = offset + scale * torch.randn(n, length, d)
        for i in range(n):
            x[i, int(lengths[i % b]) :] = 0.0
        return x.to(device)

    x = make_batch(b, t)
    mask = (torch.arange(t)[None, :] < lengths[:, None]).to(device)
    y = normalize(x)

    # 1. Replace every other sequence in the batch.
    x_other = x.clone()
    x_other[1:] = make_batch(b, t)[1:] * 1.5 + 1.0
    x_other[1:] = x_other[1:] * mask[1:, :, None]
    y_other = normalize(x_other)
    batch_change = float(
        (y[0, : int(lengths[0])] - y_other[0, : int(lengths[0])]).abs().max().item()
    )

    # 2. Append padding positions.
    x_pad = torch.cat([x, torch.zeros(b, params.extra_padding, d, device=device)], dim=1)
    y_pad = normalize(x_pad)[:, :t]
    pad_change = float(((y - y_pad).abs() * mask[:, :, None]).max().item())

    # 3. Per-token statistics over features, real tokens only.
    real = y[mask]
    token_mean_err = float(real.mean(dim=-1).abs().max().item())
    token_std_err = float(
        (real.var(dim=-1, unbiased=False) + eps).sqrt().sub(1.0).abs().max().item()
    )
    feat_mean = y[mask].mean(dim=0)
    ctx.progress(0.9, "summarizing")

    first_token = [float(v) for v in y[0, 0, : min(d, 16)].tolist()]
    first_token_other = [float(v) for v in y_other[0, 0, : min(d, 16)].tolist()]
    cats = [f"f{i}" for i in range(min(d, 16))]
    charts = [
        Chart(
            id="token-output",
            title=f"Sequence 0, token 0 after {params.norm} norm, two sets of batch companions",
            kind="bar",
            x_label="feature",
            y_label="normalized value",
            categories=cats,
            series=[
                Series(
                    name="original batch", x=[float(i) for i in range(len(cats))], y=first_token
                ),
                Series(
                    name="companions replaced",
                    x=[float(i) for i in range(len(cats))],
                    y=first_token_other,
                ),
            ],
        ),
        Chart(
            id="feature-means",
            title="Mean of each feature over real tokens (BatchNorm with padding moves it off 0)",
            kind="bar",
            x_label="feature",
            y_label="mean",
            categories=cats,
            series=[
                Series(
                    name=params.norm,
                    x=[float(i) for i in range(len(cats))],
                    y=[float(v) for v in feat_mean[:16].tolist()],
                )
            ],
        ),
    ]
    table = Table(
        title="What the output depends on",
        columns=["check", "max change / error"],
        rows=[
            ["sequence 0 output, companions replaced", batch_change],
            [f"real-token outputs, {params.extra_padding} padding positions added", pad_change],
            ["|mean over features| per token", token_mean_err],
            ["|std over features - 1| per token", token_std_err],
        ],
    )
    claims = [
        Claim(
            id="output-independent-of-batch",
            text=CLAIMS["output-independent-of-batch"],
            passed=bool(batch_change < 1e-5),
            values={"max_change": batch_change, "norm": params.norm},
        ),
        Claim(
            id="real-tokens-unaffected-by-padding",
            text=CLAIMS["real-tokens-unaffected-by-padding"],
            passed=bool(pad_change < 1e-5),
            values={"max_change": pad_change, "norm": params.norm},
        ),
        Claim(
            id="per-token-normalized",
            text=CLAIMS["per-token-normalized"],
            passed=bool(token_mean_err < 1e-3 and token_std_err < 1e-3),
            values={
                "max_abs_token_mean": token_mean_err,
                "max_abs_token_std_minus_1": token_std_err,
                "norm": params.norm,
            },
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"{'LayerNorm' if params.norm == 'layer' else 'BatchNorm'}："
            "替换同批其他序列使一个序列的输出变化 "
            f"{batch_change:.2e}；添加填充使真实 token 的输出变化 {pad_change:.2e}。"
        ),
        summary=(
            f"{params.norm.capitalize()} norm: replacing batch companions changes a sequence's "
            "output by "
            f"{batch_change:.2e}; adding padding changes real tokens by {pad_change:.2e}."
        ),
        metrics={
            "batch_dependence": batch_change,
            "padding_dependence": pad_change,
            "token_mean_error": token_mean_err,
            "token_std_error": token_std_err,
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
