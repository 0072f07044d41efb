"""FlashAttention's idea on the CPU: tiled attention with an online softmax, no n x n matrix."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Tiled attention with an online softmax (the FlashAttention idea)"
TITLE_ZH = "分块注意力与在线 softmax（FlashAttention 的思路）"
DESCRIPTION = (
    "Computes attention block by block, keeping only a running max, a running sum and an "
    "output accumulator per query, and compares it with ordinary attention that builds the "
    "full n x n score matrix; counts the score memory each needs as n grows."
)
DESCRIPTION_ZH = (
    "逐块计算注意力，每个 query 只保留运行最大值、运行和与输出累加器，与构造完整 n x n "
    "分数矩阵的普通注意力比较，并统计 n 增大时两者需要的分数内存。"
)
CLAIMS = {
    "online-softmax-equals-softmax": (
        "A one-pass online softmax over key blocks, which rescales its running sum when the "
        "max changes, equals torch.softmax to 1e-6."
    ),
    "tiled-attention-matches-full": (
        "Tiled attention with the online softmax matches full attention's output to 1e-5."
    ),
    "tiled-memory-does-not-grow-with-n2": (
        "The largest score buffer of tiled attention is block_q x block_k whatever n is, while "
        "full attention's score matrix grows as n^2 (x4 per doubling of n)."
    ),
}
CLAIMS_ZH = {
    "online-softmax-equals-softmax": (
        "按 key 分块的一遍式在线 softmax，在最大值变化时重新缩放累计和，结果与 torch.softmax "
        "相差小于 1e-6。"
    ),
    "tiled-attention-matches-full": "用在线 softmax 的分块注意力与完整注意力的输出相差小于 1e-5。",
    "tiled-memory-does-not-grow-with-n2": (
        "分块注意力最大的分数缓冲区是 block_q x block_k，与 n 无关；完整注意力的分数矩阵按 n^2 "
        "增长（n 翻倍时变为 4 倍）。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "tiled-memory-does-not-grow-with-n2": "always: it does not depend on the parameters",
    "online-softmax-equals-softmax": "rescale on",
    "tiled-attention-matches-full": "rescale on",
}
CLAIM_SHOWN_WHEN_ZH = {
    "tiled-memory-does-not-grow-with-n2": "总成立：与参数无关",
    "online-softmax-equals-softmax": "开启 rescale 时",
    "tiled-attention-matches-full": "开启 rescale 时",
}
TEXT_ZH = {
    "Score memory vs sequence length": "分数内存随序列长度的变化",
    "sequence length n": "序列长度 n",
    "score elements held at once": "同时保存的分数元素数",
    "full attention (n x n)": "完整注意力（n x n）",
    "tiled attention (one block)": "分块注意力（一个块）",
    "Memory and FLOPs per length": "各长度下的内存与 FLOPs",
    "n": "n",
    "full score elements": "完整分数元素数",
    "tiled score elements": "分块分数元素数",
    "QK^T + AV FLOPs": "QK^T + AV 的 FLOPs",
    "Running max per key block (query 0)": "每个 key 块后的运行最大值（query 0）",
    "key block": "key 块",
    "running max": "运行最大值",
    "Sequence length n": "序列长度 n",
    "Head dimension d": "head 维度 d",
    "Block size (queries and keys per tile)": "块大小（每块的 query 与 key 数）",
    "Rescale the running sum and output when the max changes": "最大值变化时重新缩放累计和与输出",
}


class Params(BaseModel):
    n: int = Field(256, ge=16, le=2048, description="Sequence length n")
    d: int = Field(32, ge=8, le=128, description="Head dimension d")
    block: int = Field(32, ge=4, le=256, description="Block size (queries and keys per tile)")
    rescale: bool = Field(
        True, description="Rescale the running sum and output when the max changes"
    )


def _tiled(q, k, v, block: int, rescale: bool):  # type: ignore[no-untyped-def]
    """Attention one (query block, key block) tile at a time; returns output and max history."""
    import torch

    n, d = q.shape
    out = torch.empty_like(q)
    history = []
    for qs in range(0, n, block):
        qb = q[qs : qs + block] / d**0.5
        m = torch.full((qb.shape[0], 1), float("-inf"), dtype=q.dtype)
        s_sum = torch.zeros(qb.shape[0], 1, dtype=q.dtype)
        acc = torch.zeros(qb.shape[0], v.shape[1], dtype=q.dtype)
        for ks in range(0, n, block):
            scores = qb @ k[ks : ks + block].T  # the only score buffer: block x block
            m_new = torch.maximum(m, scores.max(dim=1, keepdim=True).values)
            p = torch.exp(scores - m_new)
            # Earlier terms were exponentiated against the old max; rescale them to the new one.
            corr = torch.exp(m - m_new) if rescale else torch.ones_like(m)
            s_sum = s_sum * corr + p.sum(dim=1, keepdim=True)
            acc = acc * corr + p @ v[ks : ks + block]
            m = m_new
            if qs == 0:
                history.append(float(m[0, 0]))
        out[qs : qs + block] = acc / s_sum
    return out, history


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    n, d = params.n, params.d
    # float64 so that the comparison measures the algorithm, not rounding.
    q, k, v = (torch.randn(n, d, dtype=torch.float64) * 2.0 for _ in range(3))
    full = torch.softmax(q @ k.T / d**0.5, dim=-1) @ v
    tiled, history = _tiled(q, k, v, params.block, params.rescale)
    attn_err = float((tiled - full).abs().max().item())

    # The online softmax alone, on one row of scores, streamed in blocks.
    row = (q[0] @ k.T / d**0.5).tolist()
    m, total = float("-inf"), 0.0
    for start in range(0, n, params.block):
        chunk = torch.tensor(row[start : start + params.block], dtype=torch.float64)
        m_new = max(m, float(chunk.max()))
        scale = float(torch.exp(torch.tensor(m - m_new))) if params.rescale else 1.0
        total = total * scale + float(torch.exp(chunk - m_new).sum())
        m = m_new
    online = torch.exp(torch.tensor(row, dtype=torch.float64) - m) / total
    softmax_err = float(
        (online - torch.softmax(torch.tensor(row, dtype=torch.float64), 0)).abs().max()
    )
    ctx.progress(0.7, "counting memory")

    lengths = [n // 4, n // 2, n, 2 * n, 4 * n]
    lengths = [x for x in lengths if x >= params.block]
    full_elems = [x * x for x in lengths]
    tile_elems = [min(params.block, x) ** 2 for x in lengths]
    flops = [4 * x * x * d for x in lengths]
    doubling = full_elems[-1] / full_elems[-2]
    memory_ok = len(set(tile_elems)) == 1 and abs(doubling - 4.0) < 1e-9
    xs = [float(x) for x in lengths]
    charts = [
        Chart(
            id="memory",
            title="Score memory vs sequence length",
            x_label="sequence length n",
            y_label="score elements held at once",
            log_y=True,
            series=[
                Series(name="full attention (n x n)", x=xs, y=[float(e) for e in full_elems]),
                Series(name="tiled attention (one block)", x=xs, y=[float(e) for e in tile_elems]),
            ],
        ),
        Chart(
            id="running-max",
            title="Running max per key block (query 0)",
            x_label="key block",
            y_label="running max",
            series=[
                Series(
                    name="running max",
                    x=[float(i) for i in range(len(history))],
                    y=history,
                )
            ],
        ),
    ]
    table = Table(
        title="Memory and FLOPs per length",
        columns=["n", "full score elements", "tiled score elements", "QK^T + AV FLOPs"],
        rows=[
            [x, f, t, fl]
            for x, f, t, fl in zip(lengths, full_elems, tile_elems, flops, strict=True)
        ],
    )
    claims = [
        Claim(
            id="online-softmax-equals-softmax",
            text=CLAIMS["online-softmax-equals-softmax"],
            passed=bool(softmax_err < 1e-6),
            values={"max_abs_error": softmax_err},
        ),
        Claim(
            id="tiled-attention-matches-full",
            text=CLAIMS["tiled-attention-matches-full"],
            passed=bool(attn_err < 1e-5),
            values={"max_abs_error": attn_err},
        ),
        Claim(
            id="tiled-memory-does-not-grow-with-n2",
            text=CLAIMS["tiled-memory-does-not-grow-with-n2"],
            passed=bool(memory_ok),
            values={
                "full_elements": n * n,
                "tile_elements": params.block**2,
                "full_growth_per_doubling": doubling,
            },
        ),
    ]
    return DemoResult(
        summary=(
            f"n={n}, block={params.block}, rescale={params.rescale}: tiled attention differs from "
            f"full attention by {attn_err:.1e}; it holds {params.block**2} scores at a time "
            f"instead of {n * n}."
        ),
        summary_zh=(
            f"n={n}、块大小 {params.block}、rescale={params.rescale}：分块注意力与完整注意力相差 "
            f"{attn_err:.1e}；同时只保存 {params.block**2} 个分数，而不是 {n * n} 个。"
        ),
        metrics={
            "attention_max_error": attn_err,
            "softmax_max_error": softmax_err,
            "full_score_elements": n * n,
            "tile_score_elements": params.block**2,
            "memory_ratio": n * n / params.block**2,
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
