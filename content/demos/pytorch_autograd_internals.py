"""Autograd internals: in-place ops and version counters, detach, no_grad vs inference_mode, hooks"
"."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Autograd internals: in-place ops, detach, inference_mode, hooks"
TITLE_ZH = "autograd 内部机制：原地操作、detach、inference_mode、hook"
DESCRIPTION = (
    "Modifies the output of sigmoid (which its backward needs) in place or out of place and runs "
    "backward; shows the version counter, that detach shares storage, what no_grad and "
    "inference_mode produce, and a gradient hook that rescales a gradient."
)
DESCRIPTION_ZH = (
    "对 sigmoid 的输出（它的反向需要这个输出）做原地或非原地修改后反向传播；展示版本计数器、"
    "detach 共享存储、no_grad 和 inference_mode 产生的张量，以及一个缩放梯度的 hook。"
)
CLAIMS = {
    "inplace-on-saved-tensor-raises": (
        "Modifying sigmoid's output in place before backward makes backward raise a RuntimeError "
        "naming the version mismatch."
    ),
    "version-counter-counts-inplace-ops": (
        "Each in-place operation increments the tensor's version counter by one."
    ),
    "detach-shares-storage": (
        "A detached tensor shares storage with the original: an in-place change to it shows in "
        "the original, and it has requires_grad False."
    ),
    "inference-mode-tensors-refused-by-autograd": (
        "A tensor made under no_grad can later be used in a graph; one made under inference_mode "
        "cannot be saved for backward (using it in a recorded computation raises)."
    ),
    "hook-rescales-gradient": (
        "A hook registered with register_hook that doubles the gradient doubles the gradient "
        "that reaches the leaf."
    ),
}
CLAIMS_ZH = {
    "inplace-on-saved-tensor-raises": (
        "在反向之前原地修改 sigmoid 的输出，backward 会抛出 RuntimeError，指出版本不一致。"
    ),
    "version-counter-counts-inplace-ops": "每次原地操作都让张量的版本计数器加一。",
    "detach-shares-storage": (
        "detach 得到的张量与原张量共享存储：对它原地修改会反映到原张量上，且它的 requires_grad 为 "
        "False。"
    ),
    "inference-mode-tensors-refused-by-autograd": (
        "no_grad 下生成的张量之后可以参与计算图；inference_mode 下生成的不能被保存用于反向"
        "（在记录计算图的计算里使用会报错）。"
    ),
    "hook-rescales-gradient": (
        "用 register_hook 注册一个把梯度翻倍的 hook，到达叶子节点的梯度也翻倍。"
    ),
}
CLAIM_SHOWN_WHEN = {
    "inplace-on-saved-tensor-raises": "modification = in-place",
    "version-counter-counts-inplace-ops": "any setting",
    "detach-shares-storage": "any setting",
    "inference-mode-tensors-refused-by-autograd": "any setting",
    "hook-rescales-gradient": "any setting",
}
CLAIM_SHOWN_WHEN_ZH = {
    "inplace-on-saved-tensor-raises": "modification = in-place",
    "version-counter-counts-inplace-ops": "任意设置",
    "detach-shares-storage": "任意设置",
    "inference-mode-tensors-refused-by-autograd": "任意设置",
    "hook-rescales-gradient": "任意设置",
}
TEXT_ZH = {
    "Version counter after k in-place ops": "k 次原地操作后的版本计数器",
    "in-place ops": "原地操作次数",
    "_version": "_version",
    "version": "版本",
    "Observations": "观察结果",
    "check": "检查项",
    "result": "结果",
    "How sigmoid's output is modified before backward": "反向之前如何修改 sigmoid 的输出",
    "In-place operations applied": "原地操作的次数",
}


class Params(BaseModel):
    modification: Literal["in-place", "out-of-place"] = Field(
        "in-place", description="How sigmoid's output is modified before backward"
    )
    inplace_ops: int = Field(3, ge=1, le=10, description="In-place operations applied")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import torch

    device = torch.device(ctx.device)
    torch.manual_seed(ctx.seed)
    x = torch.randn(8).to(device).requires_grad_(True)

    # 1. sigmoid saves its output for backward: d sigmoid = y (1 - y).
    y = torch.sigmoid(x)
    y = y.mul_(2) if params.modification == "in-place" else y * 2
    error = ""
    try:
        y.sum().backward()
    except RuntimeError as exc:
        error = str(exc)
    raised = "modified by an inplace operation" in error

    # 2. Version counter.
    t = torch.zeros(4).to(device)
    versions = [t._version]
    for _ in range(params.inplace_ops):
        t.add_(1)
        versions.append(t._version)
    counts = all(b - a == 1 for a, b in zip(versions, versions[1:], strict=False))

    # 3. detach shares storage.
    a = torch.ones(3).to(device).requires_grad_(True) * 1.0
    d = a.detach()
    d.zero_()
    shares = bool((a == 0).all()) and not d.requires_grad

    # 4. no_grad vs inference_mode.
    w = torch.ones(3).to(device).requires_grad_(True)
    with torch.no_grad():
        ng = torch.ones(3).to(device) * 2
    with torch.inference_mode():
        im = torch.ones(3).to(device) * 2
    no_grad_ok = True
    try:
        (w * ng).sum().backward()  # mul saves ng for w's gradient
    except RuntimeError:
        no_grad_ok = False
    inference_refused = False
    try:
        (w * im).sum().backward()
    except RuntimeError:
        inference_refused = True
    inference_ok = no_grad_ok and inference_refused and im.is_inference()

    # 5. A hook on an intermediate tensor.
    z = torch.randn(5).to(device).requires_grad_(True)
    plain = torch.autograd.grad((z * 3).sum(), z)[0]
    h = z * 3
    h.register_hook(lambda g: g * 2)
    hooked = torch.autograd.grad(h.sum(), z)[0]
    hook_ok = bool(torch.allclose(hooked, 2 * plain))

    claims = [
        Claim(
            id="inplace-on-saved-tensor-raises",
            text=CLAIMS["inplace-on-saved-tensor-raises"],
            passed=raised,
            values={"error": error[:120]},
        ),
        Claim(
            id="version-counter-counts-inplace-ops",
            text=CLAIMS["version-counter-counts-inplace-ops"],
            passed=counts,
            values={"final_version": versions[-1]},
        ),
        Claim(id="detach-shares-storage", text=CLAIMS["detach-shares-storage"], passed=shares),
        Claim(
            id="inference-mode-tensors-refused-by-autograd",
            text=CLAIMS["inference-mode-tensors-refused-by-autograd"],
            passed=inference_ok,
            values={"no_grad_usable": no_grad_ok, "inference_refused": inference_refused},
        ),
        Claim(id="hook-rescales-gradient", text=CLAIMS["hook-rescales-gradient"], passed=hook_ok),
    ]
    ops = list(range(len(versions)))
    chart = Chart(
        id="versions",
        title="Version counter after k in-place ops",
        x_label="in-place ops",
        y_label="_version",
        series=[Series(name="version", x=ops, y=versions)],
    )
    table = Table(
        title="Observations",
        columns=["check", "result"],
        rows=[
            ["backward after modifying sigmoid output", error[:80] or "ran"],
            ["versions", " ".join(map(str, versions))],
            ["detach shares storage", shares],
            ["no_grad tensor usable in a graph", no_grad_ok],
            ["inference_mode tensor refused", inference_refused],
            ["hook doubles gradient", hook_ok],
        ],
    )
    return DemoResult(
        summary=(
            f"{params.modification} change to sigmoid's output: "
            f"{'backward raised' if raised else 'backward ran'}; version counter "
            f"{versions[0]} -> {versions[-1]}; detach shares storage: {shares}."
        ),
        summary_zh=(
            f"对 sigmoid 输出做{'原地' if params.modification == 'in-place' else '非原地'}修改："
            f"{'backward 报错' if raised else 'backward 正常'}；版本计数器 {versions[0]} -> "
            f"{versions[-1]}；detach 共享存储：{shares}。"
        ),
        metrics={"backward_raised": raised, "final_version": versions[-1]},
        tables=[table],
        charts=[chart],
        claims=claims,
    )
