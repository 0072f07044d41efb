"""Matmul in fp32, fp16 and bf16: error against an fp64 reference, and throughput."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Tensor-core matmul: fp32 vs fp16 vs bf16 throughput and error"
TITLE_ZH = "Tensor core 矩阵乘：fp32、fp16、bf16 的吞吐与误差"
DESCRIPTION = (
    "Multiplies two random n x n matrices in fp32, fp16 and bf16, measures each result's "
    "relative error against fp64 and the TFLOP/s (2n^3 flops per product). On CUDA it uses "
    "n = 8192 with TF32 off and checks the tensor-core speed-up; on CPU, n = 256 and "
    "timings are reported but not checked."
)
DESCRIPTION_ZH = (
    "用 fp32、fp16 和 bf16 计算两个随机 n x n 矩阵的乘积，测量每个结果相对 fp64 的误差和 "
    "TFLOP/s（每次乘法 2n^3 次浮点运算）。CUDA 上 n = 8192、关闭 TF32，并检查 tensor core 的"
    "加速；CPU 上 n = 256，只报告耗时、不做检查。"
)
# The point shows at full size only on a GPU; CUDA runs a larger configuration.
BENEFITS_FROM_GPU = True
CLAIMS = {
    "error-ordered-by-mantissa": (
        "Relative error against fp64 is ordered fp32 < fp16 < bf16, following their mantissa "
        "bits (23, 10, 7)."
    ),
    "error-within-format-epsilon": (
        "Each 16-bit product's relative error is below its format's epsilon (2^-10 for fp16, "
        "2^-7 for bf16): accumulation runs in fp32."
    ),
    "tensor-cores-speed-up-bf16": (
        "On CUDA, bf16 matmul reaches at least 3x the TFLOP/s of fp32 with TF32 off (checked "
        "only on CUDA; CPU timings on a shared machine are not reliable, so there it is not "
        "checked)."
    ),
}
CLAIMS_ZH = {
    "error-ordered-by-mantissa": (
        "相对 fp64 的误差按尾数位排序：fp32 < fp16 < bf16（23、10、7 位）。"
    ),
    "error-within-format-epsilon": (
        "每个 16 位乘积的相对误差都小于该格式的 epsilon（fp16 为 2^-10，bf16 为 2^-7）："
        "累加是在 fp32 里做的。"
    ),
    "tensor-cores-speed-up-bf16": (
        "CUDA 上 bf16 矩阵乘的 TFLOP/s 至少是关闭 TF32 的 fp32 的 3 倍（只在 CUDA 上检查；"
        "共享 CPU 上的计时不可靠，所以 CPU 上不检查）。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "error-ordered-by-mantissa": "any n",
    "error-within-format-epsilon": "any n",
    "tensor-cores-speed-up-bf16": "on a CUDA GPU with tensor cores",
}
CLAIM_SHOWN_WHEN_ZH = {
    "error-ordered-by-mantissa": "任意 n",
    "error-within-format-epsilon": "任意 n",
    "tensor-cores-speed-up-bf16": "在有 tensor core 的 CUDA GPU 上",
}
TEXT_ZH = {
    "Throughput by precision": "各精度的吞吐",
    "dtype": "数据类型",
    "TFLOP/s": "TFLOP/s",
    "Relative error vs fp64": "相对 fp64 的误差",
    "relative error": "相对误差",
    "Matmul by precision": "各精度的矩阵乘",
    "epsilon": "epsilon",
    "ms per product": "每次乘法毫秒数",
    "Matrix size n on CPU (CUDA uses 8192)": "CPU 上的矩阵大小 n（CUDA 用 8192）",
    "Timed repetitions": "计时重复次数",
}


class Params(BaseModel):
    n: int = Field(256, ge=32, le=512, description="Matrix size n on CPU (CUDA uses 8192)")
    repeats: int = Field(3, ge=1, le=20, description="Timed repetitions")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import time

    import torch

    device = torch.device(ctx.device)
    on_cuda = ctx.device.startswith("cuda")
    n = 8192 if on_cuda else params.n
    if on_cuda:
        torch.backends.cuda.matmul.allow_tf32 = False  # plain fp32, not TF32 tensor cores
    torch.manual_seed(ctx.seed)
    a = torch.randn(n, n).to(device)
    b = torch.randn(n, n).to(device)
    ref = a.double() @ b.double()

    def sync() -> None:
        if on_cuda:
            torch.cuda.synchronize()

    dtypes = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
    errors: dict[str, float] = {}
    tflops: dict[str, float] = {}
    ms: dict[str, float] = {}
    for i, (name, dtype) in enumerate(dtypes.items()):
        ctx.progress(0.1 + 0.8 * i / 3, f"{name} matmul")
        x, y = a.to(dtype), b.to(dtype)
        out = x @ y  # warm-up (kernel selection), also the product we check
        sync()
        errors[name] = float((out.double() - ref).norm() / ref.norm())
        start = time.perf_counter()
        for _ in range(params.repeats):
            out = x @ y
        sync()
        seconds = (time.perf_counter() - start) / params.repeats
        ms[name] = seconds * 1e3
        tflops[name] = 2 * n**3 / seconds / 1e12

    eps = {"fp32": 2.0**-23, "fp16": 2.0**-10, "bf16": 2.0**-7}
    speedup = tflops["bf16"] / tflops["fp32"]
    if not on_cuda:
        # CPU timings on a shared machine vary run to run; a demo's result must not, so they
        # are measured (same code path) but not reported.
        ms = {k: 0.0 for k in ms}
        tflops = {k: 0.0 for k in tflops}
        speedup = 0.0
    claims = [
        Claim(
            id="error-ordered-by-mantissa",
            text=CLAIMS["error-ordered-by-mantissa"],
            passed=errors["fp32"] < errors["fp16"] < errors["bf16"],
            values={f"error_{k}": v for k, v in errors.items()},
        ),
        Claim(
            id="error-within-format-epsilon",
            text=CLAIMS["error-within-format-epsilon"],
            passed=errors["fp16"] < eps["fp16"] and errors["bf16"] < eps["bf16"],
            values={"error_fp16": errors["fp16"], "error_bf16": errors["bf16"]},
        ),
        Claim(
            id="tensor-cores-speed-up-bf16",
            text=CLAIMS["tensor-cores-speed-up-bf16"],
            passed=speedup >= 3.0 if on_cuda else True,
            values={"checked": on_cuda, "bf16_over_fp32": speedup},  # 0.0: not measured
        ),
    ]
    names = list(dtypes)
    charts = [
        Chart(
            id="tflops",
            title="Throughput by precision",
            kind="bar",
            x_label="dtype",
            y_label="TFLOP/s",
            categories=names,
            series=[Series(name="TFLOP/s", x=[0, 1, 2], y=[tflops[k] for k in names])],
        ),
        Chart(
            id="errors",
            title="Relative error vs fp64",
            kind="bar",
            x_label="dtype",
            y_label="relative error",
            log_y=True,
            categories=names,
            series=[Series(name="relative error", x=[0, 1, 2], y=[errors[k] for k in names])],
        ),
    ]
    if not on_cuda:
        charts = charts[1:]  # no throughput chart without timings
    table = Table(
        title="Matmul by precision",
        columns=["dtype", "relative error", "epsilon", "ms per product", "TFLOP/s"],
        rows=[[k, errors[k], eps[k], ms[k], tflops[k]] for k in names],
    )
    where = "CUDA" if on_cuda else "CPU (timings not reported)"
    return DemoResult(
        summary=(
            f"n = {n} on {where}: relative error fp32 {errors['fp32']:.1e}, fp16 "
            f"{errors['fp16']:.1e}, bf16 {errors['bf16']:.1e}"
            + (f"; bf16 runs at {speedup:.1f}x fp32's TFLOP/s." if on_cuda else ".")
        ),
        summary_zh=(
            f"n = {n}，设备 {'CUDA' if on_cuda else 'CPU（不报告耗时）'}：相对误差 fp32 "
            f"{errors['fp32']:.1e}、fp16 {errors['fp16']:.1e}、bf16 {errors['bf16']:.1e}"
            + (f"；bf16 的 TFLOP/s 是 fp32 的 {speedup:.1f} 倍。" if on_cuda else "。")
        ),
        metrics={
            "n": n,
            **{f"tflops_{k}": v for k, v in tflops.items()},
            **{f"error_{k}": v for k, v in errors.items()},
            "bf16_speedup": speedup,
        },
        tables=[table],
        charts=charts,
        claims=claims,
    )
