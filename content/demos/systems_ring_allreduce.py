"""Ring all-reduce simulated over N workers: correctness and bytes sent per worker."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Ring all-reduce: what each worker sends"
TITLE_ZH = "环形 all-reduce：每个 worker 发送多少数据"
DESCRIPTION = (
    "Simulates N workers each holding a gradient vector, sums them with a ring all-reduce "
    "(reduce-scatter then all-gather, N-1 steps each) or with a central parameter server, and "
    "counts the elements every worker sends and receives."
)
DESCRIPTION_ZH = (
    "模拟 N 个 worker，每个持有一个梯度向量，用环形 all-reduce（先 reduce-scatter 再 "
    "all-gather，各 N-1 步）或中心参数服务器求和，统计每个 worker 发送和接收的元素数。"
)
CLAIMS = {
    "allreduce-gives-the-sum": (
        "After the all-reduce every worker holds the elementwise sum of all workers' vectors "
        "(max abs error below 1e-4)."
    ),
    "ring-sends-2-n-minus-1-over-n": (
        "With the ring algorithm, each worker sends 2(N-1)/N of the vector's elements (exactly "
        "when N divides the length), independent of which worker it is."
    ),
    "per-worker-traffic-bounded": (
        "The busiest worker sends and receives fewer than 2x the vector's size in total, "
        "whatever N is (the ring's traffic per worker does not grow with N)."
    ),
}
CLAIMS_ZH = {
    "allreduce-gives-the-sum": (
        "all-reduce 之后每个 worker 都持有所有 worker 向量的逐元素和（最大绝对误差小于 1e-4）。"
    ),
    "ring-sends-2-n-minus-1-over-n": (
        "环形算法中，每个 worker 发送向量元素数的 2(N-1)/N（N 整除长度时精确相等），与它是哪个 wor"
        "ker 无关。"
    ),
    "per-worker-traffic-bounded": (
        "最忙的 worker 收发总量都小于向量大小的 2 倍，与 N 无关（环形算法每个 worker 的通信量不随 "
        "N 增长）。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "allreduce-gives-the-sum": "any setting",
    "ring-sends-2-n-minus-1-over-n": "algorithm = ring",
    "per-worker-traffic-bounded": "algorithm = ring (a parameter server receives (N-1)x)",
}
CLAIM_SHOWN_WHEN_ZH = {
    "allreduce-gives-the-sum": "任意设置",
    "ring-sends-2-n-minus-1-over-n": "algorithm = ring",
    "per-worker-traffic-bounded": "algorithm = ring（参数服务器要接收 (N-1) 倍）",
}
TEXT_ZH = {
    "Elements sent per worker (fraction of the vector)": "每个 worker 发送的元素（占向量的比例）",
    "worker": "worker",
    "fraction of vector sent": "发送量占向量的比例",
    "sent": "发送",
    "received": "接收",
    "Traffic per worker": "每个 worker 的通信量",
    "elements sent": "发送的元素数",
    "elements received": "接收的元素数",
    "Number of workers N": "worker 数 N",
    "Elements per gradient vector": "每个梯度向量的元素数",
    "Algorithm: ring all-reduce or a central parameter server": (
        "算法：环形 all-reduce 或中心参数服务器"
    ),
}


class Params(BaseModel):
    workers: int = Field(8, ge=2, le=64, description="Number of workers N")
    size: int = Field(4096, ge=64, le=65536, description="Elements per gradient vector")
    algorithm: Literal["ring", "parameter-server"] = Field(
        "ring", description="Algorithm: ring all-reduce or a central parameter server"
    )


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    n, size = params.workers, params.size
    torch.manual_seed(ctx.seed)
    data = [torch.randn(size).to(ctx.device) for _ in range(n)]
    expected = torch.stack(data).sum(0)
    sent = [0] * n
    received = [0] * n

    if params.algorithm == "ring":
        # Each worker's vector is cut into N chunks (sizes differ by at most one element).
        bufs = [list(d.clone().tensor_split(n)) for d in data]
        # Reduce-scatter: at step s, worker i sends chunk (i - s) mod N to worker i + 1,
        # which adds it; after N-1 steps worker i holds the full sum of chunk (i + 1) mod N.
        for s in range(n - 1):
            outgoing = [(i, (i - s) % n, bufs[i][(i - s) % n].clone()) for i in range(n)]
            for i, c, chunk in outgoing:
                j = (i + 1) % n
                bufs[j][c] = bufs[j][c] + chunk
                sent[i] += chunk.numel()
                received[j] += chunk.numel()
        # All-gather: pass the finished chunks around the ring, N-1 more steps.
        for s in range(n - 1):
            outgoing = [(i, (i + 1 - s) % n, bufs[i][(i + 1 - s) % n].clone()) for i in range(n)]
            for i, c, chunk in outgoing:
                j = (i + 1) % n
                bufs[j][c] = chunk
                sent[i] += chunk.numel()
                received[j] += chunk.numel()
        results = [torch.cat(b) for b in bufs]
    else:
        # Worker 0 is the server: everyone sends it a full vector and gets the sum back.
        total = data[0].clone()
        for i in range(1, n):
            total += data[i]
            sent[i] += size
            received[0] += size
        for i in range(1, n):
            sent[0] += size
            received[i] += size
        results = [total.clone() for _ in range(n)]

    err = max(float((r - expected).abs().max()) for r in results)
    fractions = [s / size for s in sent]
    ideal = 2 * (n - 1) / n
    busiest = max(max(sent), max(received)) / size

    claims = [
        Claim(
            id="allreduce-gives-the-sum",
            text=CLAIMS["allreduce-gives-the-sum"],
            passed=err < 1e-4,
            values={"max_abs_error": err},
        ),
        Claim(
            id="ring-sends-2-n-minus-1-over-n",
            text=CLAIMS["ring-sends-2-n-minus-1-over-n"],
            passed=all(abs(f - ideal) < 1.0 / size * n for f in fractions)
            and sum(sent) == 2 * (n - 1) * size,
            values={"expected_fraction": ideal, "max_fraction": max(fractions)},
        ),
        Claim(
            id="per-worker-traffic-bounded",
            text=CLAIMS["per-worker-traffic-bounded"],
            passed=busiest < 2.0,
            values={"busiest_worker_in_vectors": busiest, "workers": n},
        ),
    ]
    workers = list(range(n))
    chart = Chart(
        id="sent-per-worker",
        title="Elements sent per worker (fraction of the vector)",
        kind="bar",
        x_label="worker",
        y_label="fraction of vector sent",
        categories=[str(i) for i in workers],
        series=[
            Series(name="sent", x=workers, y=fractions),
            Series(name="received", x=workers, y=[r / size for r in received]),
        ],
    )
    table = Table(
        title="Traffic per worker",
        columns=["worker", "elements sent", "elements received"],
        rows=[[i, sent[i], received[i]] for i in workers],
    )
    return DemoResult(
        summary=(
            f"{params.algorithm}, N = {n}: each worker sends up to {max(fractions):.3f} vectors "
            f"(2(N-1)/N = {ideal:.3f}); busiest worker moves {busiest:.2f} vectors; "
            f"error {err:.1e}."
        ),
        summary_zh=(
            f"{params.algorithm}，N = {n}：每个 worker 最多发送 {max(fractions):.3f} 个向量"
            f"（2(N-1)/N = {ideal:.3f}）；最忙的 worker 收发 {busiest:.2f} 个向量；误差 {err:.1e}。"
        ),
        metrics={
            "max_fraction_sent": max(fractions),
            "expected_ring_fraction": ideal,
            "busiest_worker_vectors": busiest,
            "total_elements_sent": sum(sent),
        },
        tables=[table],
        charts=[chart],
        claims=claims,
    )
