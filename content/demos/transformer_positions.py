"""Absolute and relative position signals: sinusoidal, learned, ALiBi, and none at all."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Position signals: none, sinusoidal, learned and ALiBi"
TITLE_ZH = "位置信号：无、正弦、可学习与 ALiBi"
DESCRIPTION = (
    "Shuffles the tokens fed to a self-attention layer to see whether it can tell the order, "
    "checks that a sinusoidal encoding shifts by a fixed linear map, builds ALiBi's distance "
    "biases, and asks each scheme for a position beyond the training length."
)
DESCRIPTION_ZH = (
    "打乱输入自注意力层的 token，看它能否分辨顺序；验证正弦编码的平移是一个固定的线性变换；"
    "构造 ALiBi 的距离偏置；并让每种方案给出超过训练长度的位置。"
)
CLAIMS = {
    "encoding-makes-order-visible": (
        "With the chosen encoding, shuffling the input tokens does not just shuffle the outputs "
        "(some output changes by more than 1e-3), so the layer sees word order."
    ),
    "sinusoidal-shift-is-linear": (
        "For every offset k, one fixed matrix maps the sinusoidal encoding of every position t "
        "to that of t + k (error below 1e-9), and PE(t).PE(t+k) does not depend on t."
    ),
    "alibi-bias-linear-in-distance": (
        "ALiBi adds -m_h (i - j) to the logits, with head slopes m_h = 2^(-8h/H) forming a "
        "geometric sequence."
    ),
    "defined-beyond-training-length": (
        "The chosen encoding gives a position signal at 2x the training length."
    ),
}
CLAIMS_ZH = {
    "encoding-makes-order-visible": (
        "在所选编码下，打乱输入 token 不只是打乱输出（有输出变化超过 1e-3），层能看到词序。"
    ),
    "sinusoidal-shift-is-linear": (
        "对任意偏移 k，存在一个固定矩阵把每个位置 t 的正弦编码映射为 t + k 的编码"
        "（误差小于 1e-9），且 PE(t)·PE(t+k) 与 t 无关。"
    ),
    "alibi-bias-linear-in-distance": (
        "ALiBi 给 logit 加 -m_h (i - j)，各 head 的斜率 m_h = 2^(-8h/H) 构成等比数列。"
    ),
    "defined-beyond-training-length": "所选编码在 2 倍训练长度处仍能给出位置信号。",
}
CLAIM_SHOWN_WHEN = {
    "sinusoidal-shift-is-linear": "always: it does not depend on the parameters",
    "alibi-bias-linear-in-distance": "always: it does not depend on the parameters",
    "encoding-makes-order-visible": "encoding is not none",
    "defined-beyond-training-length": "encoding is sinusoidal or alibi",
}
CLAIM_SHOWN_WHEN_ZH = {
    "sinusoidal-shift-is-linear": "总成立：与参数无关",
    "alibi-bias-linear-in-distance": "总成立：与参数无关",
    "encoding-makes-order-visible": "encoding 不是 none 时",
    "defined-beyond-training-length": "encoding 为 sinusoidal 或 alibi 时",
}
TEXT_ZH = {
    "Sinusoidal encoding: PE(0).PE(k) vs offset": "正弦编码：PE(0)·PE(k) 随偏移的变化",
    "offset k": "偏移 k",
    "dot product": "点积",
    "PE(0).PE(k)": "PE(0)·PE(k)",
    "PE(50).PE(50+k)": "PE(50)·PE(50+k)",
    "ALiBi bias vs distance, per head": "ALiBi 偏置随距离的变化（每个 head）",
    "distance i - j": "距离 i - j",
    "bias added to the logit": "加到 logit 上的偏置",
    "ALiBi head slopes": "ALiBi 各 head 的斜率",
    "head": "head",
    "slope m_h": "斜率 m_h",
    "Position signal for inputs to the attention layer": "注意力层输入的位置信号",
    "Model width": "模型宽度",
    "Sequence length (also the training length for learned positions)": (
        "序列长度（也是可学习位置编码的训练长度）"
    ),
    "Attention heads (ALiBi slopes)": "注意力 head 数（ALiBi 斜率）",
}


class Params(BaseModel):
    encoding: Literal["none", "sinusoidal", "learned", "alibi"] = Field(
        "sinusoidal", description="Position signal for inputs to the attention layer"
    )
    d_model: int = Field(32, ge=8, le=128, description="Model width")
    seq_len: int = Field(
        16,
        ge=4,
        le=128,
        description="Sequence length (also the training length for learned positions)",
    )
    heads: int = Field(8, ge=1, le=16, description="Attention heads (ALiBi slopes)")


def sinusoidal(n: int, d: int):  # type: ignore[no-untyped-def]
    import torch

    pos = torch.arange(n, dtype=torch.float64)[:, None]
    freq = 10000 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    pe = torch.zeros(n, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


def alibi_slopes(heads: int) -> list[float]:
    return [2 ** (-8 * (h + 1) / heads) for h in range(heads)]


def _attend(x, heads: int, encoding: str, table):  # type: ignore[no-untyped-def]
    """One self-attention layer (shared random projections) with the chosen position signal."""
    import torch

    n, d = x.shape
    if encoding == "sinusoidal":
        x = x + sinusoidal(n, d)
    elif encoding == "learned":
        x = x + table[:n]  # raises IndexError past the table, like nn.Embedding would
    w_q, w_k, w_v = table.w
    q, k, v = x @ w_q, x @ w_k, x @ w_v
    scores = (q @ k.T) / d**0.5
    if encoding == "alibi":
        dist = torch.arange(n)[:, None] - torch.arange(n)[None, :]
        scores = scores - alibi_slopes(heads)[0] * dist.abs().to(scores.dtype)
    return torch.softmax(scores, dim=-1) @ v


class _Table:
    """A learned position table of seq_len rows, plus the layer's projections."""

    def __init__(self, rows, w):  # type: ignore[no-untyped-def]
        self.rows, self.w = rows, w

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        if key.stop > self.rows.shape[0]:
            raise IndexError(f"no learned embedding for position {key.stop - 1}")
        return self.rows[key]


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    if params.d_model % 2:
        raise ValueError(f"d_model must be even for sinusoids, got {params.d_model}")
    torch.manual_seed(ctx.seed)
    n, d = params.seq_len, params.d_model
    x = torch.randn(n, d, dtype=torch.float64)
    w = tuple(torch.randn(d, d, dtype=torch.float64) / d**0.5 for _ in range(3))
    table = _Table(torch.randn(n, d, dtype=torch.float64) * 0.5, w)
    perm = torch.randperm(n)
    out = _attend(x, params.heads, params.encoding, table)
    out_perm = _attend(x[perm], params.heads, params.encoding, table)
    order_gap = float((out_perm - out[perm]).abs().max().item())

    # Sinusoidal shift: PE(t + k) = PE(t) M_k, M_k block-diagonal with one 2x2 rotation per
    # frequency (angle-addition formulas), the same matrix for every t.
    # Rows for the checks below and for the chart's PE(50).PE(50 + k), k < 64, at any n.
    pe = sinusoidal(max(4 * n, 50) + 64, d)
    freq = 10000 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    shift_err, dot_spread = 0.0, 0.0
    for k in (1, 3, 10):
        m_k = torch.zeros(d, d, dtype=torch.float64)
        c, s_ = torch.cos(k * freq), torch.sin(k * freq)
        idx = torch.arange(0, d, 2)
        m_k[idx, idx], m_k[idx, idx + 1] = c, -s_  # sin row -> (sin, cos) of t + k
        m_k[idx + 1, idx], m_k[idx + 1, idx + 1] = s_, c
        shift_err = max(shift_err, float((pe[: 3 * n] @ m_k - pe[k : 3 * n + k]).abs().max()))
        dots = (pe[: 3 * n] * pe[k : 3 * n + k]).sum(-1)
        dot_spread = max(dot_spread, float(dots.max() - dots.min()))

    slopes = alibi_slopes(params.heads)
    ratios = [slopes[i + 1] / slopes[i] for i in range(len(slopes) - 1)]
    geometric = all(abs(r - ratios[0]) < 1e-12 for r in ratios) if ratios else True
    alibi_ok = geometric and abs(slopes[-1] - 2**-8) < 1e-12

    try:
        _attend(torch.randn(2 * n, d, dtype=torch.float64), params.heads, params.encoding, table)
        beyond_ok = params.encoding != "none"
        beyond_note = "defined"
    except IndexError as exc:
        beyond_ok, beyond_note = False, str(exc)
    ctx.progress(0.8, "summarizing")

    ks = list(range(0, 64))
    charts = [
        Chart(
            id="sinusoid-dots",
            title="Sinusoidal encoding: PE(0).PE(k) vs offset",
            x_label="offset k",
            y_label="dot product",
            series=[
                Series(
                    name="PE(0).PE(k)",
                    x=[float(k) for k in ks],
                    y=[float(pe[0] @ pe[k]) for k in ks],
                ),
                Series(
                    name="PE(50).PE(50+k)",
                    x=[float(k) for k in ks],
                    y=[float(pe[50] @ pe[50 + k]) for k in ks],
                ),
            ],
        ),
        Chart(
            id="alibi",
            title="ALiBi bias vs distance, per head",
            x_label="distance i - j",
            y_label="bias added to the logit",
            series=[
                Series(
                    name=f"head {h + 1}",
                    x=[float(t) for t in range(n)],
                    y=[-s * t for t in range(n)],
                )
                for h, s in enumerate(slopes[:4])
            ],
        ),
    ]
    table_out = Table(
        title="ALiBi head slopes",
        columns=["head", "slope m_h"],
        rows=[[h + 1, s] for h, s in enumerate(slopes)],
    )
    claims = [
        Claim(
            id="encoding-makes-order-visible",
            text=CLAIMS["encoding-makes-order-visible"],
            passed=bool(order_gap > 1e-3),
            values={"max_output_change_after_shuffle": order_gap},
        ),
        Claim(
            id="sinusoidal-shift-is-linear",
            text=CLAIMS["sinusoidal-shift-is-linear"],
            passed=bool(shift_err < 1e-9 and dot_spread < 1e-9),
            values={"shift_error": shift_err, "dot_product_spread": dot_spread},
        ),
        Claim(
            id="alibi-bias-linear-in-distance",
            text=CLAIMS["alibi-bias-linear-in-distance"],
            passed=bool(alibi_ok),
            values={"first_slope": slopes[0], "last_slope": slopes[-1]},
        ),
        Claim(
            id="defined-beyond-training-length",
            text=CLAIMS["defined-beyond-training-length"],
            passed=bool(beyond_ok),
            values={"at_2x_length": beyond_note},
        ),
    ]
    return DemoResult(
        summary=(
            f"{params.encoding}: shuffling the tokens changes the (unshuffled) outputs by "
            f"{order_gap:.2e}; at 2x the training length: {beyond_note}."
        ),
        summary_zh=(
            f"{params.encoding}：打乱 token 后，输出（按原顺序对齐）变化 {order_gap:.2e}；"
            f"2 倍训练长度处：{'有定义' if beyond_ok else '无定义'}。"
        ),
        metrics={
            "order_gap": order_gap,
            "sinusoid_shift_error": shift_err,
            "alibi_first_slope": slopes[0],
            "alibi_ratio": ratios[0] if ratios else 1.0,
        },
        tables=[table_out],
        charts=charts,
        claims=claims,
    )
