"""PyTorch's multiplications side by side: *, torch.mul, torch.dot, torch.mm, torch.matmul, @."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Multiplication in PyTorch"
DESCRIPTION = (
    "Multiplies the same tensors with *, torch.mul, torch.dot, torch.mm, torch.matmul, @ and "
    "torch.bmm, and records which ones agree, which broadcast, and which raise."
)
CLAIMS = {
    "star-differs-from-matmul": (
        "For the configured n x n matrices, a * b (element-wise, same as torch.mul) differs from "
        "a @ b (the matrix product, same as torch.matmul and torch.mm)."
    ),
    "matmul-broadcasts-mm-does-not": (
        "With the configured batch dimension, torch.matmul (and @) multiplies every n x n "
        "slice by the shared matrix, while torch.mm rejects the 3-D input."
    ),
    "matmul-needs-matching-inner-dims": (
        "Multiplying an n x k matrix by another n x k matrix with @ raises a shape error (inner "
        "dimensions k and n differ), while * works on them element-wise."
    ),
}
TITLE_ZH = "PyTorch 中的乘法"
DESCRIPTION_ZH = (
    "用 *、torch.mul、torch.dot、torch.mm、torch.matmul、@ 和 torch.bmm 乘同样的张量，记录哪些结"
    "果一致、哪些会广播、哪些会报错。"
)
CLAIMS_ZH = {
    "star-differs-from-matmul": (
        "对所设的 n x n 矩阵，a * b（逐元素，同 torch.mul）不同于 a @ b（矩阵乘积，同 torch.matmu"
        "l 和 torch.mm）。"
    ),
    "matmul-broadcasts-mm-does-not": (
        "在所设批维度下，torch.matmul（和 @）把每个 n x n 切片乘以共享矩阵，而 torch.mm 拒绝三维"
        "输入。"
    ),
    "matmul-needs-matching-inner-dims": (
        "用 @ 把一个 n x k 矩阵乘以另一个 n x k 矩阵会报形状错误（内维 k 与 n 不同），而 * 可以逐"
        "元素相乘。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "star-differs-from-matmul": "matrices random (diagonal matrices multiply the same both ways)",
    "matmul-broadcasts-mm-does-not": "batch >= 1",
    "matmul-needs-matching-inner-dims": "k different from n (the defaults: n 3, k 4)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "star-differs-from-matmul": "matrices 为 random（对角矩阵两种乘法结果相同）",
    "matmul-broadcasts-mm-does-not": "batch >= 1",
    "matmul-needs-matching-inner-dims": "k 与 n 不同（默认 n 3、k 4）",
}
TEXT_ZH = {
    "Rows (and columns) of the square matrices a and b": "方阵 a 和 b 的行数（和列数）",
    "Columns of the n x k matrix in the shape-error test": "形状错误测试中 n x k 矩阵的列数",
    "Batch size of the 3-D tensor (0 = no batch dimension)": "三维张量的批大小（0 = 没有批维度）",
    "Random dense matrices, or diagonal ones": "随机稠密矩阵，或对角矩阵",
    "Entries of a * b and a @ b (row-major order)": "a * b 和 a @ b 的元素（按行优先顺序）",
    "entry index": "元素下标",
    "value": "值",
    "a * b": "a * b",
    "a @ b": "a @ b",
    "What each call does": "每个调用的结果",
    "call": "调用",
    "result": "结果",
    "shape or error": "形状或错误",
}


class Params(BaseModel):
    n: int = Field(3, ge=1, le=64, description="Rows (and columns) of the square matrices a and b")
    k: int = Field(
        4, ge=1, le=64, description="Columns of the n x k matrix in the shape-error test"
    )
    batch: int = Field(
        4, ge=0, le=16, description="Batch size of the 3-D tensor (0 = no batch dimension)"
    )
    matrices: Literal["random", "diagonal"] = Field(
        "random", description="Random dense matrices, or diagonal ones"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    dt = torch.float64
    n = params.n
    a = torch.randn(n, n, dtype=dt).to(device)
    b = torch.randn(n, n, dtype=dt).to(device)
    if params.matrices == "diagonal":
        a, b = torch.diag(torch.diagonal(a)), torch.diag(torch.diagonal(b))

    ctx.progress(0.3, "square matrices")
    star, mul = a * b, torch.mul(a, b)
    at, mm, matmul = a @ b, torch.mm(a, b), torch.matmul(a, b)
    loops = torch.zeros(n, n, dtype=dt, device=device)
    for i in range(n):
        for j in range(n):
            loops[i, j] = (a[i, :] * b[:, j]).sum()  # row i of a dotted with column j of b
    star_is_mul = torch.equal(star, mul)
    matmul_agree = (
        torch.allclose(at, mm) and torch.allclose(at, matmul) and torch.allclose(at, loops)
    )
    star_vs_matmul = float((star - at).abs().max().item())
    differs = star_is_mul and matmul_agree and star_vs_matmul > 1e-9

    ctx.progress(0.6, "batched input")
    rows: list[list[float | int | str | bool]] = []

    def attempt(name: str, fn) -> tuple[bool, str]:  # type: ignore[no-untyped-def]
        try:
            out = fn()
            rows.append([name, "ok", str(tuple(out.shape)) if out.dim() else "scalar"])
            return True, ""
        except RuntimeError as exc:
            msg = str(exc).splitlines()[0][:80]
            rows.append([name, "error", msg])
            return False, msg

    x = (
        torch.randn(params.batch, n, n, dtype=dt).to(device)
        if params.batch
        else torch.randn(n, n, dtype=dt).to(device)
    )
    ok_matmul, _ = attempt("torch.matmul(x, a)", lambda: torch.matmul(x, a))
    ok_mm, _ = attempt("torch.mm(x, a)", lambda: torch.mm(x, a))
    per_slice = False
    if ok_matmul and params.batch:
        out = x @ a
        per_slice = all(torch.allclose(out[i], torch.mm(x[i], a)) for i in range(params.batch))
    broadcast_ok = params.batch > 0 and ok_matmul and per_slice and not ok_mm

    ctx.progress(0.8, "shape errors")
    u = torch.randn(n, params.k, dtype=dt).to(device)
    v = torch.randn(n, params.k, dtype=dt).to(device)
    ok_at, _ = attempt(f"({n}x{params.k}) @ ({n}x{params.k})", lambda: u @ v)
    ok_star, _ = attempt(f"({n}x{params.k}) * ({n}x{params.k})", lambda: u * v)
    attempt(f"({n}x{params.k}) @ ({n}x{params.k}).T", lambda: u @ v.T)
    vec = torch.randn(n, dtype=dt).to(device)
    attempt("torch.dot(vector, vector)", lambda: torch.dot(vec, vec))
    attempt("torch.dot(matrix, matrix)", lambda: torch.dot(a, b))
    attempt("(n,1) * (1,n) broadcast", lambda: vec[:, None] * vec[None, :])

    chart = Chart(
        id="entries",
        title="Entries of a * b and a @ b (row-major order)",
        x_label="entry index",
        y_label="value",
        series=[
            Series(
                name="a * b",
                x=[float(i) for i in range(n * n)],
                y=[float(v) for v in star.flatten().tolist()],
            ),
            Series(
                name="a @ b",
                x=[float(i) for i in range(n * n)],
                y=[float(v) for v in at.flatten().tolist()],
            ),
        ],
    )
    claims = [
        Claim(
            id="star-differs-from-matmul",
            text=CLAIMS["star-differs-from-matmul"],
            passed=bool(differs),
            values={
                "max_abs_difference": star_vs_matmul,
                "star_equals_mul": star_is_mul,
                "matmul_equals_mm": bool(matmul_agree),
            },
        ),
        Claim(
            id="matmul-broadcasts-mm-does-not",
            text=CLAIMS["matmul-broadcasts-mm-does-not"],
            passed=bool(broadcast_ok),
            values={
                "batch": params.batch,
                "matmul_ok": ok_matmul,
                "matches_per_slice_mm": per_slice,
                "mm_ok": ok_mm,
            },
        ),
        Claim(
            id="matmul-needs-matching-inner-dims",
            text=CLAIMS["matmul-needs-matching-inner-dims"],
            passed=bool(not ok_at and ok_star),
            values={"n": n, "k": params.k, "matmul_raised": not ok_at, "elementwise_ok": ok_star},
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"a * b 与 a @ b 最多相差 {star_vs_matmul:.3g}；对 {tuple(x.shape)} 张量，torch.matmul"
            f"：{'成功' if ok_matmul else '报错'}，torch.mm：{'成功' if ok_mm else '报错'}。"
        ),
        summary=(
            f"a * b and a @ b differ by up to {star_vs_matmul:.3g}; torch.matmul on a "
            f"{tuple(x.shape)} tensor: {'ok' if ok_matmul else 'error'}, "
            f"torch.mm: {'ok' if ok_mm else 'error'}."
        ),
        metrics={
            "star_vs_matmul_max_diff": star_vs_matmul,
            "matmul_batched_ok": ok_matmul,
            "mm_batched_ok": ok_mm,
        },
        tables=[
            Table(
                title="What each call does", columns=["call", "result", "shape or error"], rows=rows
            )
        ],
        charts=[chart],
        claims=claims,
    )
