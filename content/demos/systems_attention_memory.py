"""Peak memory of attention: the materialised n x n score matrix vs a chunked computation."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Attention memory: O(n^2) scores vs a memory-efficient chunked kernel"
TITLE_ZH = "注意力的显存：O(n^2) 的分数矩阵与分块的省显存计算"
DESCRIPTION = (
    "Computes softmax(QK^T / sqrt(d)) V for sequence length n and 2n, once materialising the "
    "full n x n score matrix and once in query chunks, and compares the peak extra memory. On "
    "CUDA it measures torch.cuda.max_memory_allocated at n = 4096 and 8192; on CPU it counts "
    "the bytes of the intermediate tensors at n = 256 and 512."
)
DESCRIPTION_ZH = (
    "对序列长度 n 和 2n 计算 softmax(QK^T / sqrt(d)) V：一次完整地构造 n x n 分数矩阵，一次按"
    "query 分块计算，比较额外的峰值显存。CUDA 上在 n = 4096 和 8192 用 "
    "torch.cuda.max_memory_allocated 测量；CPU 上在 n = 256 和 512 统计中间张量的字节数。"
)
# The point shows at full size only on a GPU; CUDA runs a larger configuration.
BENEFITS_FROM_GPU = True
CLAIMS = {
    "naive-memory-quadratic": (
        "Doubling n multiplies the naive attention's peak extra memory by 3.5 to 4.5: the n x n "
        "scores make it O(n^2)."
    ),
    "chunked-memory-linear": (
        "Doubling n multiplies the chunked computation's peak extra memory by at most 2.5: with "
        "a fixed chunk of queries it is O(n)."
    ),
    "chunked-output-matches": (
        "The chunked computation gives the same output as the naive one (max abs difference "
        "below 1e-4)."
    ),
}
CLAIMS_ZH = {
    "naive-memory-quadratic": (
        "n 翻倍时，朴素注意力的额外峰值显存变为 3.5 到 4.5 倍：n x n 的分数矩阵让它是 O(n^2)。"
    ),
    "chunked-memory-linear": (
        "n 翻倍时，分块计算的额外峰值显存最多变为 2.5 倍：query 块大小固定时它是 O(n)。"
    ),
    "chunked-output-matches": "分块计算的输出和朴素计算相同（最大绝对误差小于 1e-4）。",
}
CLAIM_SHOWN_WHEN = {
    "naive-memory-quadratic": "n much larger than the head dimension",
    "chunked-memory-linear": "chunk much smaller than n",
    "chunked-output-matches": "any setting",
}
CLAIM_SHOWN_WHEN_ZH = {
    "naive-memory-quadratic": "n 远大于每个头的维度",
    "chunked-memory-linear": "块大小远小于 n",
    "chunked-output-matches": "任意设置",
}
TEXT_ZH = {
    "Peak extra memory vs sequence length": "额外峰值显存随序列长度的变化",
    "sequence length n": "序列长度 n",
    "peak extra bytes": "额外峰值字节数",
    "naive (n x n scores)": "朴素（n x n 分数）",
    "chunked queries": "分块 query",
    "Peak extra memory": "额外峰值显存",
    "method": "方法",
    "ratio 2n / n": "比值 2n / n",
    "Queries per chunk (CPU; CUDA uses 512)": "每块的 query 数（CPU；CUDA 用 512）",
}


class Params(BaseModel):
    chunk: int = Field(32, ge=8, le=256, description="Queries per chunk (CPU; CUDA uses 512)")


class _Meter:
    """Peak extra bytes: read from the CUDA allocator, or counted tensor by tensor on CPU."""

    def __init__(self, on_cuda: bool) -> None:
        import torch

        self.on_cuda = on_cuda
        self.live = 0
        self.peak = 0
        if on_cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()

    def alloc(self, t) -> None:  # type: ignore[no-untyped-def]
        self.live += t.numel() * t.element_size()
        self.peak = max(self.peak, self.live)

    def free(self, t) -> None:  # type: ignore[no-untyped-def]
        self.live -= t.numel() * t.element_size()

    def result(self) -> int:
        import torch

        if self.on_cuda:
            torch.cuda.synchronize()
            return int(torch.cuda.max_memory_allocated() - self.base)
        return self.peak


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import math

    import torch

    device = torch.device(ctx.device)
    on_cuda = ctx.device.startswith("cuda")
    if on_cuda:
        torch.backends.cuda.matmul.allow_tf32 = False
    heads, d = (8, 64) if on_cuda else (2, 16)
    lengths = [4096, 8192] if on_cuda else [256, 512]
    chunk = 512 if on_cuda else params.chunk

    def naive(q, k, v, meter: _Meter):  # type: ignore[no-untyped-def]
        s = q @ k.transpose(-1, -2) / math.sqrt(d)
        meter.alloc(s)
        p = torch.softmax(s, dim=-1)
        meter.alloc(p)
        meter.free(s)
        del s
        out = p @ v
        meter.alloc(out)
        meter.free(p)
        return out

    def chunked(q, k, v, meter: _Meter):  # type: ignore[no-untyped-def]
        out = torch.empty_like(q)
        meter.alloc(out)
        for lo in range(0, q.shape[-2], chunk):
            s = q[..., lo : lo + chunk, :] @ k.transpose(-1, -2) / math.sqrt(d)
            meter.alloc(s)
            p = torch.softmax(s, dim=-1)
            meter.alloc(p)
            meter.free(s)
            del s
            out[..., lo : lo + chunk, :] = p @ v
            meter.free(p)
            del p
        return out

    peaks: dict[str, list[int]] = {"naive": [], "chunked": []}
    max_diff = 0.0
    torch.manual_seed(ctx.seed)
    for i, n in enumerate(lengths):
        ctx.progress(0.1 + 0.4 * i, f"n = {n}")
        q, k, v = (torch.randn(1, heads, n, d).to(device) for _ in range(3))
        with torch.no_grad():
            meter = _Meter(on_cuda)
            ref = naive(q, k, v, meter)
            peaks["naive"].append(meter.result())
            ref_bytes = ref.numel() * ref.element_size()
            # The naive output stays alive during the chunked run; count it out on CUDA.
            meter = _Meter(on_cuda)
            out = chunked(q, k, v, meter)
            peaks["chunked"].append(meter.result())
            max_diff = max(max_diff, float((out - ref).abs().max()))
        del q, k, v, ref, out
    naive_ratio = peaks["naive"][1] / peaks["naive"][0]
    chunk_ratio = peaks["chunked"][1] / peaks["chunked"][0]

    claims = [
        Claim(
            id="naive-memory-quadratic",
            text=CLAIMS["naive-memory-quadratic"],
            passed=3.5 <= naive_ratio <= 4.5,
            values={"ratio": naive_ratio},
        ),
        Claim(
            id="chunked-memory-linear",
            text=CLAIMS["chunked-memory-linear"],
            passed=chunk_ratio <= 2.5,
            values={"ratio": chunk_ratio},
        ),
        Claim(
            id="chunked-output-matches",
            text=CLAIMS["chunked-output-matches"],
            passed=max_diff < 1e-4,
            values={"max_abs_diff": max_diff},
        ),
    ]
    chart = Chart(
        id="peak-memory",
        title="Peak extra memory vs sequence length",
        x_label="sequence length n",
        y_label="peak extra bytes",
        log_y=True,
        series=[
            Series(name="naive (n x n scores)", x=lengths, y=peaks["naive"]),
            Series(name="chunked queries", x=lengths, y=peaks["chunked"]),
        ],
    )
    table = Table(
        title="Peak extra memory",
        columns=["method", f"n = {lengths[0]}", f"n = {lengths[1]}", "ratio 2n / n"],
        rows=[
            ["naive (n x n scores)", *peaks["naive"], naive_ratio],
            ["chunked queries", *peaks["chunked"], chunk_ratio],
        ],
    )
    how = "torch.cuda.max_memory_allocated" if on_cuda else "bytes of intermediate tensors"
    return DemoResult(
        summary=(
            f"n {lengths[0]} -> {lengths[1]} ({how}): naive peak x{naive_ratio:.2f}, chunked "
            f"(chunk {chunk}) x{chunk_ratio:.2f}; outputs differ by {max_diff:.1e}."
        ),
        summary_zh=(
            f"n 从 {lengths[0]} 到 {lengths[1]}（{'CUDA 显存统计' if on_cuda else '中间张量字节数'}"
            f"）："
            f"朴素计算峰值 x{naive_ratio:.2f}，分块（块大小 {chunk}）x{chunk_ratio:.2f}；"
            f"输出差 {max_diff:.1e}。"
        ),
        metrics={
            "peak_naive_small": peaks["naive"][0],
            "peak_naive_large": peaks["naive"][1],
            "peak_chunked_small": peaks["chunked"][0],
            "peak_chunked_large": peaks["chunked"][1],
            "naive_ratio": naive_ratio,
            "chunked_ratio": chunk_ratio,
            "output_bytes": ref_bytes,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
