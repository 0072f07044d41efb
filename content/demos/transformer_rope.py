"""Rotary position embeddings: attention scores that depend only on the relative offset."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "RoPE: attention scores depend only on the relative offset"
TITLE_ZH = "RoPE：注意力分数只依赖相对偏移"
DESCRIPTION = (
    "Places the same query and key vectors at many absolute positions and measures whether the "
    "score q.k changes when only the absolute position changes, for rotary embeddings and for "
    "sinusoidal embeddings added to the input."
)
DESCRIPTION_ZH = (
    "把同一对 query、key 放在许多不同的绝对位置上，测量只改变绝对位置时分数 q·k 是否变化，"
    "比较旋转位置编码与加在输入上的正弦位置编码。"
)
CLAIMS = {
    "scores-depend-only-on-offset": (
        "With the chosen encoding, the score of a fixed query-key pair is the same (spread below "
        "1e-4) at every pair of absolute positions with the same offset, and changes with the "
        "offset."
    ),
    "rotation-preserves-norm": (
        "The chosen encoding leaves every query and key vector's norm unchanged (to 1e-5)."
    ),
    "score-decays-with-distance": (
        "For an all-ones query and key, the RoPE score's mean magnitude at offsets 256 to 511 is "
        "below half of its value at offsets 0 to 31."
    ),
}
CLAIMS_ZH = {
    "scores-depend-only-on-offset": (
        "在所选编码下，固定的一对 query、key 在偏移相同的任意绝对位置上分数相同（差异小于 1e-4），"
        "偏移改变时分数随之改变。"
    ),
    "rotation-preserves-norm": "所选编码不改变任何 query、key 向量的范数（误差 1e-5 内）。",
    "score-decays-with-distance": (
        "query 和 key 全为 1 时，RoPE 分数在偏移 256 到 511 的平均幅度不到偏移 0 到 31 的一半。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "score-decays-with-distance": "d >= 16 with base <= 1e5 (the defaults: 64 and 10000)",
    "scores-depend-only-on-offset": "encoding = rope",
    "rotation-preserves-norm": "encoding = rope",
}
CLAIM_SHOWN_WHEN_ZH = {
    "score-decays-with-distance": "d >= 16 且 base <= 1e5（默认 64 和 10000）",
    "scores-depend-only-on-offset": "encoding = rope 时",
    "rotation-preserves-norm": "encoding = rope 时",
}
TEXT_ZH = {
    "Score of one query-key pair vs absolute position (offset fixed)": (
        "固定偏移时一对 query、key 的分数随绝对位置的变化"
    ),
    "query position m (key at m - offset)": "query 位置 m（key 在 m - offset）",
    "score": "分数",
    "RoPE score vs offset (all-ones q and k)": "RoPE 分数随偏移的变化（q、k 全为 1）",
    "offset": "偏移",
    "chosen encoding": "所选编码",
    "Score spread per offset": "各偏移下的分数差异",
    "score spread over positions": "不同位置上的分数差异",
    "Position encoding applied to queries and keys": "对 query 和 key 使用的位置编码",
    "Head dimension (even)": "head 维度（偶数）",
    "Relative offset m - n checked": "检查的相对偏移 m - n",
    "RoPE base (theta)": "RoPE 的底数 theta",
}


class Params(BaseModel):
    encoding: Literal["rope", "sinusoidal-added", "none"] = Field(
        "rope", description="Position encoding applied to queries and keys"
    )
    d: int = Field(64, ge=4, le=256, description="Head dimension (even)")
    offset: int = Field(5, ge=0, le=100, description="Relative offset m - n checked")
    base: float = Field(10000.0, ge=10.0, le=1e6, description="RoPE base (theta)")


def _angles(positions, d: int, base: float):  # type: ignore[no-untyped-def]
    import torch

    inv_freq = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # theta_i
    return positions.to(torch.float64)[:, None] * inv_freq[None, :]  # (n, d/2)


def rope(x, positions, base: float):  # type: ignore[no-untyped-def]
    """Rotates each pair (x_2i, x_2i+1) by the angle position * theta_i."""
    import torch

    ang = _angles(positions, x.shape[-1], base)
    cos, sin = torch.cos(ang), torch.sin(ang)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = x1 * cos - x2 * sin
    out[..., 1::2] = x1 * sin + x2 * cos
    return out


def _sinusoidal(positions, d: int):  # type: ignore[no-untyped-def]
    import torch

    ang = _angles(positions, d, 10000.0)
    pe = torch.empty(len(positions), d, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(ang), torch.cos(ang)
    return pe


def _encode(x, positions, encoding: str, base: float):  # type: ignore[no-untyped-def]
    if encoding == "rope":
        return rope(x, positions, base)
    if encoding == "sinusoidal-added":
        return x + _sinusoidal(positions, x.shape[-1])
    return x


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    if params.d % 2:
        raise ValueError(f"d must be even (pairs of dimensions are rotated), got {params.d}")
    torch.manual_seed(ctx.seed)
    d = params.d
    q = torch.randn(d, dtype=torch.float64)
    k = torch.randn(d, dtype=torch.float64)
    m = torch.arange(params.offset, params.offset + 200)
    n = m - params.offset
    qm = _encode(q.expand(len(m), d), m, params.encoding, params.base)
    kn = _encode(k.expand(len(n), d), n, params.encoding, params.base)
    scores = (qm * kn).sum(-1)
    spread = float((scores.max() - scores.min()).item())
    shifted = _encode(q.expand(1, d), m[:1] + 7, params.encoding, params.base)
    offset_effect = abs(float((shifted * kn[:1]).sum()) - float(scores[0]))
    norm_err = float((qm.norm(dim=-1) - q.norm()).abs().max().item())

    # RoFormer's long-range decay: all-ones q and k, score as a function of the offset.
    offsets = torch.arange(0, 512)
    ones = torch.ones(len(offsets), d, dtype=torch.float64)
    decay = (
        rope(ones, offsets, params.base) * rope(ones, torch.zeros_like(offsets), params.base)
    ).sum(-1)
    near = float(decay[:32].abs().mean())
    far = float(decay[256:].abs().mean())
    ctx.progress(0.8, "summarizing")

    charts = [
        Chart(
            id="score-vs-position",
            title="Score of one query-key pair vs absolute position (offset fixed)",
            x_label="query position m (key at m - offset)",
            y_label="score",
            series=[Series(name="chosen encoding", x=[float(v) for v in m], y=scores.tolist())],
        ),
        Chart(
            id="decay",
            title="RoPE score vs offset (all-ones q and k)",
            x_label="offset",
            y_label="score",
            series=[Series(name="RoPE", x=[float(v) for v in offsets], y=decay.tolist())],
        ),
    ]
    spreads = []
    for off in (0, 1, 5, 20, 100):
        mm = torch.arange(off, off + 200)
        s = (
            _encode(q.expand(200, d), mm, params.encoding, params.base)
            * _encode(k.expand(200, d), mm - off, params.encoding, params.base)
        ).sum(-1)
        spreads.append([off, float(s.max() - s.min())])
    table = Table(
        title="Score spread per offset",
        columns=["offset", "score spread over positions"],
        rows=spreads,
    )
    claims = [
        Claim(
            id="scores-depend-only-on-offset",
            text=CLAIMS["scores-depend-only-on-offset"],
            passed=bool(spread < 1e-4 and offset_effect > 1e-3),
            values={
                "score_spread": spread,
                "score_change_offset_plus_7": offset_effect,
                "offset": params.offset,
            },
        ),
        Claim(
            id="rotation-preserves-norm",
            text=CLAIMS["rotation-preserves-norm"],
            passed=bool(norm_err < 1e-5),
            values={"max_norm_change": norm_err},
        ),
        Claim(
            id="score-decays-with-distance",
            text=CLAIMS["score-decays-with-distance"],
            passed=bool(far < 0.5 * near),
            values={"mean_abs_score_near": near, "mean_abs_score_far": far},
        ),
    ]
    return DemoResult(
        summary=(
            f"{params.encoding}: at offset {params.offset} the same query-key pair scores within "
            f"{spread:.1e} across 200 absolute positions; vector norms change by {norm_err:.1e}."
        ),
        summary_zh=(
            f"{params.encoding}：偏移 {params.offset} 时，同一对 query、key 在 200 个绝对位置上"
            f"的分数差异为 {spread:.1e}；向量范数变化 {norm_err:.1e}。"
        ),
        metrics={
            "score_spread": spread,
            "max_norm_change": norm_err,
            "mean_abs_score_near": near,
            "mean_abs_score_far": far,
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
