"""Host-to-device copies from pinned (page-locked) vs pageable host memory."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Host-to-device copies: pinned vs pageable memory"
TITLE_ZH = "主机到设备的拷贝：锁页内存与可分页内存"
DESCRIPTION = (
    "Copies a float32 buffer from host memory to the device, from ordinary (pageable) memory "
    "and from pinned memory, synchronously and with non_blocking=True, and reports GB/s. On "
    "CUDA it copies 256 MB and checks the pinned speed-up and the asynchronous return; on CPU "
    "there is no device to copy to (and no pinned memory), so it copies host to host, checks "
    "only exactness and reports no timings."
)
DESCRIPTION_ZH = (
    "把一个 float32 缓冲区从主机内存拷到设备：分别从普通（可分页）内存和锁页内存，同步和 "
    "non_blocking=True 各一次，报告 GB/s。CUDA 上拷贝 256 MB，检查锁页内存的加速和异步返回；"
    "CPU 上没有设备可拷（也没有锁页内存），只做主机到主机的拷贝，只检查结果是否精确，不报告耗时。"
)
# The point shows at full size only on a GPU; CUDA runs a larger configuration.
BENEFITS_FROM_GPU = True
CLAIMS = {
    "copy-is-exact": "Every copy reproduces the source bit for bit.",
    "pinned-copy-faster": (
        "On CUDA, copies from pinned memory reach at least 1.2x the GB/s of copies from pageable "
        "memory (checked only on CUDA; on CPU there is no host-to-device copy)."
    ),
    "non-blocking-returns-early": (
        "On CUDA, a non_blocking copy from pinned memory returns control in under half the "
        "time of the synchronous copy, so the CPU can queue work while the copy runs (checked "
        "only on CUDA)."
    ),
}
CLAIMS_ZH = {
    "copy-is-exact": "每次拷贝都和源数据逐位相同。",
    "pinned-copy-faster": (
        "CUDA 上从锁页内存拷贝的 GB/s 至少是可分页内存的 1.2 倍（只在 CUDA 上检查；"
        "CPU 上没有主机到设备的拷贝）。"
    ),
    "non-blocking-returns-early": (
        "CUDA 上从锁页内存做 non_blocking 拷贝时，调用在同步拷贝一半的时间内就返回，"
        "CPU 可以在拷贝进行时继续排队工作（只在 CUDA 上检查）。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "copy-is-exact": "any setting",
    "pinned-copy-faster": "on a CUDA GPU",
    "non-blocking-returns-early": "on a CUDA GPU",
}
CLAIM_SHOWN_WHEN_ZH = {
    "copy-is-exact": "任意设置",
    "pinned-copy-faster": "在 CUDA GPU 上",
    "non-blocking-returns-early": "在 CUDA GPU 上",
}
TEXT_ZH = {
    "Copy bandwidth": "拷贝带宽",
    "source memory": "源内存",
    "GB/s": "GB/s",
    "pageable": "可分页",
    "pinned": "锁页",
    "Copies": "拷贝",
    "copy": "拷贝方式",
    "ms": "毫秒",
    "pageable, synchronous": "可分页，同步",
    "pinned, synchronous": "锁页，同步",
    "pinned, non_blocking (call returns)": "锁页，non_blocking（调用返回）",
    "Buffer size in MB on CPU (CUDA uses 256)": "CPU 上的缓冲区大小 MB（CUDA 用 256）",
    "Timed repetitions": "计时重复次数",
}


class Params(BaseModel):
    size_mb: int = Field(16, ge=1, le=64, description="Buffer size in MB on CPU (CUDA uses 256)")
    repeats: int = Field(3, ge=1, le=10, description="Timed repetitions")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import time

    import torch

    device = torch.device(ctx.device)
    on_cuda = ctx.device.startswith("cuda")
    size_mb = 256 if on_cuda else params.size_mb
    n = size_mb * 2**20 // 4
    torch.manual_seed(ctx.seed)
    pageable = torch.randn(n)
    # Pinned memory needs an accelerator; on CPU both sources are ordinary memory.
    pinned = pageable.pin_memory() if on_cuda else pageable.clone()

    def sync() -> None:
        if on_cuda:
            torch.cuda.synchronize()

    def timed_copy(src: torch.Tensor, non_blocking: bool) -> tuple[float, float, torch.Tensor]:
        """Seconds until the call returns, seconds until the copy is done, the copy."""
        out = src.to(device, non_blocking=non_blocking) if on_cuda else src.clone()  # warm-up
        sync()
        returned = done = 0.0
        for _ in range(params.repeats):
            start = time.perf_counter()
            out = src.to(device, non_blocking=non_blocking) if on_cuda else src.clone()
            returned += time.perf_counter() - start
            sync()
            done += time.perf_counter() - start
        return returned / params.repeats, done / params.repeats, out

    ctx.progress(0.2, "pageable copy")
    _, t_pageable, out_pageable = timed_copy(pageable, False)
    ctx.progress(0.5, "pinned copy")
    _, t_pinned, out_pinned = timed_copy(pinned, False)
    t_return, t_async_done, out_async = timed_copy(pinned, True)
    exact = all(bool(torch.equal(o.cpu(), pageable)) for o in (out_pageable, out_pinned, out_async))

    gb = size_mb / 1024
    bw_pageable, bw_pinned = gb / t_pageable, gb / t_pinned
    speedup = bw_pinned / bw_pageable
    if not on_cuda:
        # Host-to-host timings on a shared CPU vary run to run and say nothing about PCIe;
        # a demo's result must be reproducible, so none is reported.
        t_pageable = t_pinned = t_return = 0.0
        bw_pageable = bw_pinned = speedup = 0.0
    claims = [
        Claim(id="copy-is-exact", text=CLAIMS["copy-is-exact"], passed=exact, values={}),
        Claim(
            id="pinned-copy-faster",
            text=CLAIMS["pinned-copy-faster"],
            passed=speedup >= 1.2 if on_cuda else True,
            values={"checked": on_cuda, "pinned_over_pageable": speedup},
        ),
        Claim(
            id="non-blocking-returns-early",
            text=CLAIMS["non-blocking-returns-early"],
            passed=t_return < 0.5 * t_pinned if on_cuda else True,
            values={"checked": on_cuda, "return_ms": t_return * 1e3, "sync_ms": t_pinned * 1e3},
        ),
    ]
    chart = Chart(
        id="bandwidth",
        title="Copy bandwidth",
        kind="bar",
        x_label="source memory",
        y_label="GB/s",
        categories=["pageable", "pinned"],
        series=[Series(name="GB/s", x=[0, 1], y=[bw_pageable, bw_pinned])],
    )
    table = Table(
        title="Copies",
        columns=["copy", "ms", "GB/s"],
        rows=[
            ["pageable, synchronous", t_pageable * 1e3, bw_pageable],
            ["pinned, synchronous", t_pinned * 1e3, bw_pinned],
            [
                "pinned, non_blocking (call returns)",
                t_return * 1e3,
                gb / t_async_done if on_cuda else 0.0,
            ],
        ],
    )
    where = "host to CUDA" if on_cuda else "host to host (CPU: nothing checked but exactness)"
    return DemoResult(
        summary=(
            f"{size_mb} MB host to host on CPU: every copy exact; no timings reported."
            if not on_cuda
            else f"{size_mb} MB, {where}: pageable {bw_pageable:.1f} GB/s, pinned {bw_pinned:.1f} "
            f"GB/s ({speedup:.2f}x); non_blocking call returns in {t_return * 1e3:.2f} ms."
        ),
        summary_zh=(
            f"{size_mb} MB，CPU 上主机到主机：每次拷贝都精确；不报告耗时。"
            if not on_cuda
            else f"{size_mb} MB，主机到 CUDA："
            f"可分页 {bw_pageable:.1f} GB/s，锁页 {bw_pinned:.1f} GB/s（{speedup:.2f} 倍）；"
            f"non_blocking 调用 {t_return * 1e3:.2f} 毫秒返回。"
        ),
        metrics={
            "size_mb": size_mb,
            "gbps_pageable": bw_pageable,
            "gbps_pinned": bw_pinned,
            "pinned_speedup": speedup,
            "non_blocking_return_ms": t_return * 1e3,
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
