"""Inspects what autograd records: grad_fn nodes, .grad accumulation, no_grad, define-by-run."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "What autograd records"
DESCRIPTION = (
    "Builds y = f(x) with a data-dependent Python loop, walks the recorded grad_fn graph, calls "
    "backward() several times, and evaluates the function with and without torch.no_grad()."
)
CLAIMS = {
    "grad-accumulates-across-backward-calls": (
        "After the configured number of backward() calls (more than one) on freshly built graphs, "
        "x.grad equals their sum, k times one gradient: .grad accumulates until it is zeroed."
    ),
    "no-grad-records-no-graph": (
        "In the configured evaluation mode the output records no graph: its grad_fn is None and "
        "requires_grad is False."
    ),
    "graph-depends-on-data": (
        "The two inputs take the data-dependent Python loop a different number of times, so "
        "autograd records graphs of different sizes: the graph is rebuilt on every forward pass."
    ),
}
TITLE_ZH = "autograd 记录了什么"
DESCRIPTION_ZH = (
    "用含数据相关 Python 循环的 y = f(x) 建图，遍历记录下的 grad_fn 图，多次调用 backward()，并在"
    "有无 torch.no_grad() 下计算函数。"
)
CLAIMS_ZH = {
    "grad-accumulates-across-backward-calls": (
        "在新建的图上调用所设次数（多于一次）的 backward() 后，x.grad 等于它们的和，即 k 倍的单次"
        "梯度：.grad 会一直累加直到清零。"
    ),
    "no-grad-records-no-graph": (
        "在所设的求值模式下，输出不记录计算图：grad_fn 为 None，requires_grad 为 False。"
    ),
    "graph-depends-on-data": (
        "两个输入走数据相关的 Python 循环的次数不同，因此 autograd 记录的图大小不同：每次前向传播"
        "都会重新建图。"
    ),
}


CLAIM_SHOWN_WHEN = {
    "grad-accumulates-across-backward-calls": (
        "backward_calls >= 2 with zero_grad_between off (the default)"
    ),
    "no-grad-records-no-graph": "eval_mode no_grad or inference_mode",
    "graph-depends-on-data": (
        "the two inputs take the loop a different number of times (e.g. the defaults 0.3 and 5.0)"
    ),
}
CLAIM_SHOWN_WHEN_ZH = {
    "grad-accumulates-across-backward-calls": (
        "backward_calls >= 2 且 zero_grad_between 关闭（默认）"
    ),
    "no-grad-records-no-graph": "eval_mode 为 no_grad 或 inference_mode",
    "graph-depends-on-data": "两个输入走循环的次数不同（例如默认的 0.3 和 5.0）",
}
TEXT_ZH = {
    "First input x": "第一个输入 x",
    "Second input x (compared graph size)": "第二个输入 x（比较计算图大小）",
    "How many times to rebuild the graph and call backward()": "重建计算图并调用 backward() 的次数",
    "Set x.grad to None before every backward() call": "每次调用 backward() 前把 x.grad 设为 None",
    "Context for the evaluation forward pass": "评估前向传播所用的上下文",
    "x.grad after each backward() call": "每次调用 backward() 后的 x.grad",
    "backward() call": "backward() 调用次数",
    "x.grad": "x.grad",
    "Recorded graph size per input": "各输入记录的计算图大小",
    "grad_fn nodes": "grad_fn 节点数",
    "Nodes of the recorded graph for the first input (output first)": (
        "第一个输入记录的计算图节点（从输出开始）"
    ),
    "#": "#",
    "grad_fn": "grad_fn",
    "one gradient": "单次梯度",
    "nodes": "节点数",
}


class Params(BaseModel):
    input_a: float = Field(0.3, ge=-10.0, le=10.0, description="First input x")
    input_b: float = Field(
        5.0, ge=-10.0, le=10.0, description="Second input x (compared graph size)"
    )
    backward_calls: int = Field(
        3, ge=1, le=6, description="How many times to rebuild the graph and call backward()"
    )
    zero_grad_between: bool = Field(
        False, description="Set x.grad to None before every backward() call"
    )
    eval_mode: Literal["no_grad", "inference_mode", "grad"] = Field(
        "no_grad", description="Context for the evaluation forward pass"
    )


def _f(x):  # type: ignore[no-untyped-def]
    """y = sin(x) * x^2, then doubled until |y| >= 8: a data-dependent loop, at most 20 passes."""
    import torch

    y = torch.sin(x) * x**2
    loops = 0
    while bool(y.abs() < 8) and loops < 20:
        y = y * 2 + 0.1
        loops += 1
    return y, loops


def _graph_nodes(t) -> list[str]:  # type: ignore[no-untyped-def]
    seen, order, stack = set(), [], [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        order.append(type(node).__name__)
        stack.extend(n for n, _ in node.next_functions)
    return order


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    dt = torch.float64

    ctx.progress(0.2, "recording graphs")
    xa = torch.tensor(params.input_a, dtype=dt, device=device, requires_grad=True)
    xb = torch.tensor(params.input_b, dtype=dt, device=device, requires_grad=True)
    ya, loops_a = _f(xa)
    yb, loops_b = _f(xb)
    nodes_a, nodes_b = _graph_nodes(ya), _graph_nodes(yb)

    (g_single,) = torch.autograd.grad(_f(xa)[0], xa)
    single = float(g_single.item())

    ctx.progress(0.5, "repeated backward calls")
    history = []
    for _ in range(params.backward_calls):
        if params.zero_grad_between:
            xa.grad = None
        y, _ = _f(xa)  # a fresh graph each time; backward() frees the previous one
        y.backward()
        history.append(float(xa.grad.item()))
    k = params.backward_calls
    accumulated = history[-1]
    acc_ok = k > 1 and abs(accumulated - k * single) <= 1e-9 * max(1.0, abs(k * single))

    ctx.progress(0.8, "evaluation forward pass")
    if params.eval_mode == "no_grad":
        with torch.no_grad():
            y_eval, _ = _f(xa)
    elif params.eval_mode == "inference_mode":
        with torch.inference_mode():
            y_eval, _ = _f(xa)
    else:
        y_eval, _ = _f(xa)
    no_graph = y_eval.grad_fn is None and not y_eval.requires_grad

    chart = Chart(
        id="grad-accumulation",
        title="x.grad after each backward() call",
        x_label="backward() call",
        y_label="x.grad",
        series=[
            Series(name="x.grad", x=[float(i + 1) for i in range(k)], y=history),
            Series(name="one gradient", x=[float(i + 1) for i in range(k)], y=[single] * k),
        ],
    )
    sizes = Chart(
        id="graph-sizes",
        title="Recorded graph size per input",
        kind="bar",
        categories=[f"x = {params.input_a:g}", f"x = {params.input_b:g}"],
        y_label="grad_fn nodes",
        series=[Series(name="nodes", x=[0.0, 1.0], y=[float(len(nodes_a)), float(len(nodes_b))])],
    )
    table = Table(
        title="Nodes of the recorded graph for the first input (output first)",
        columns=["#", "grad_fn"],
        rows=[[i, name] for i, name in enumerate(nodes_a)],
    )
    claims = [
        Claim(
            id="grad-accumulates-across-backward-calls",
            text=CLAIMS["grad-accumulates-across-backward-calls"],
            passed=bool(acc_ok),
            values={
                "calls": k,
                "x_grad": accumulated,
                "one_gradient": single,
                "zeroed": params.zero_grad_between,
            },
        ),
        Claim(
            id="no-grad-records-no-graph",
            text=CLAIMS["no-grad-records-no-graph"],
            passed=bool(no_graph),
            values={"mode": params.eval_mode, "requires_grad": bool(y_eval.requires_grad)},
        ),
        Claim(
            id="graph-depends-on-data",
            text=CLAIMS["graph-depends-on-data"],
            passed=bool(loops_a != loops_b and len(nodes_a) != len(nodes_b)),
            values={
                "loops_a": loops_a,
                "loops_b": loops_b,
                "nodes_a": len(nodes_a),
                "nodes_b": len(nodes_b),
            },
        ),
    ]
    return DemoResult(
        summary_zh=(
            f"x={params.input_a:g} 记录了 {len(nodes_a)} 个计算图节点（循环 {loops_a} 次），x="
            f"{params.input_b:g} 记录了 {len(nodes_b)} 个；调用 {k} 次 backward() 后 x.grad = "
            f"{accumulated:.4g}（单次梯度 = {single:.4g}）。"
        ),
        summary=(
            f"x={params.input_a:g} records {len(nodes_a)} graph nodes ({loops_a} loop passes), "
            f"x={params.input_b:g} records {len(nodes_b)}; after {k} backward() calls x.grad = "
            f"{accumulated:.4g} (one gradient = {single:.4g})."
        ),
        metrics={
            "nodes_input_a": len(nodes_a),
            "nodes_input_b": len(nodes_b),
            "one_gradient": single,
            "x_grad_after_calls": accumulated,
            "eval_requires_grad": bool(y_eval.requires_grad),
        },
        tables=[table],
        charts=[chart, sizes],
        claims=claims,
    )
