"""Activation memory with and without gradient checkpointing, measured on saved tensors."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import Chart, Claim, DemoContext, DemoResult, Series, Table

TITLE = "Gradient checkpointing: activation memory vs recomputation"
TITLE_ZH = "梯度检查点：激活显存与重算"
DESCRIPTION = (
    "Runs a deep MLP forward and backward, once storing every activation and once with "
    "checkpointed segments (only segment inputs kept, each segment recomputed in backward); "
    "counts the live bytes autograd holds for backward (parameters excluded), the forward "
    "passes, and the gradients."
)
DESCRIPTION_ZH = (
    "一个深层 MLP 做前向和反向：一次保存全部激活，一次分段做检查点（只保留每段输入，反向时重算该段"
    "）；"
    "统计 autograd 为反向保留的存活字节数（不含参数）、前向次数和梯度。"
)
CLAIMS = {
    "checkpointing-cuts-peak-activation-memory": (
        "With checkpointed segments, the peak bytes saved for backward fall by at least 2x "
        "compared with storing every activation."
    ),
    "one-extra-forward": (
        "Checkpointing runs every layer's forward exactly twice: once in the forward pass, once "
        "recomputed in backward."
    ),
    "gradients-unchanged": (
        "The checkpointed run gives the same parameter gradients (relative error below 1e-6)."
    ),
}
CLAIMS_ZH = {
    "checkpointing-cuts-peak-activation-memory": (
        "分段检查点下，为反向保存的峰值字节数比保存全部激活至少少 2 倍。"
    ),
    "one-extra-forward": "检查点让每一层的前向正好跑两次：前向一次，反向时重算一次。",
    "gradients-unchanged": "检查点得到的参数梯度相同（相对误差小于 1e-6）。",
}
CLAIM_SHOWN_WHEN = {
    "checkpointing-cuts-peak-activation-memory": (
        "2 <= segments <= depth / 2 (one segment keeps a whole network's worth during recompute)"
    ),
    "one-extra-forward": "any setting",
    "gradients-unchanged": "any setting",
}
CLAIM_SHOWN_WHEN_ZH = {
    "checkpointing-cuts-peak-activation-memory": (
        "2 <= 段数 <= 层数 / 2（只分 1 段时，重算时仍要保存整个网络的激活）"
    ),
    "one-extra-forward": "任意设置",
    "gradients-unchanged": "任意设置",
}
TEXT_ZH = {
    "Peak bytes saved for backward": "为反向保存的峰值字节数",
    "run": "运行方式",
    "peak saved bytes": "峰值保存字节数",
    "store all": "保存全部",
    "checkpointed": "检查点",
    "Live saved bytes over time": "存活的保存字节数随时间变化",
    "event (save or free)": "事件（保存或释放）",
    "live bytes": "存活字节数",
    "Memory and compute": "显存与计算",
    "layer forwards": "层前向次数",
    "Linear + ReLU layers": "Linear + ReLU 层数",
    "Checkpointed segments": "检查点段数",
    "Hidden width": "隐藏层宽度",
    "Batch size": "batch 大小",
}


class Params(BaseModel):
    depth: int = Field(16, ge=2, le=64, description="Linear + ReLU layers")
    segments: int = Field(4, ge=1, le=64, description="Checkpointed segments")
    width: int = Field(64, ge=8, le=512, description="Hidden width")
    batch: int = Field(32, ge=1, le=512, description="Batch size")


class _Tracker:
    """Counts the bytes autograd keeps for backward: +size when a tensor is saved, -size
    when autograd frees it (the holder object dies with the graph node's saved slot)."""

    def __init__(self, skip: set[int]) -> None:
        self.skip = skip  # storages of parameters: saved, but not extra memory
        self.live = 0
        self.peak = 0
        self.trace: list[int] = [0]

    def pack(self, tensor):  # type: ignore[no-untyped-def]
        tracker = self
        if tensor.untyped_storage().data_ptr() in self.skip:
            return tensor

        class Holder:
            def __init__(self, t) -> None:  # type: ignore[no-untyped-def]
                self.t = t
                self.size = t.numel() * t.element_size()
                tracker.live += self.size
                tracker.peak = max(tracker.peak, tracker.live)
                tracker.trace.append(tracker.live)

            def __del__(self) -> None:
                tracker.live -= self.size
                tracker.trace.append(tracker.live)

        return Holder(tensor)

    @staticmethod
    def unpack(holder):  # type: ignore[no-untyped-def]
        import torch

        return holder if isinstance(holder, torch.Tensor) else holder.t


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import gc

    import torch
    from torch import nn

    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device)
    segments = min(params.segments, params.depth)
    calls = {"forward": 0}

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(params.width, params.width)

        def forward(self, h: torch.Tensor) -> torch.Tensor:
            calls["forward"] += 1
            return torch.relu(self.linear(h))

    layers = nn.ModuleList(Layer() for _ in range(params.depth)).to(device)
    x = torch.randn(params.batch, params.width).to(device).requires_grad_(True)

    class Segment(torch.autograd.Function):
        """Keeps only the segment's input; recomputes the segment in backward."""

        @staticmethod
        def forward(fctx, h, lo, hi, *weights):  # type: ignore[no-untyped-def]
            fctx.save_for_backward(h)
            fctx.bounds = (lo, hi)
            with torch.no_grad():
                for layer in layers[lo:hi]:
                    h = layer(h)
            return h

        @staticmethod
        def backward(fctx, grad_out):  # type: ignore[no-untyped-def]
            (h,) = fctx.saved_tensors
            lo, hi = fctx.bounds
            h = h.detach().requires_grad_(True)
            weights = [p for layer in layers[lo:hi] for p in layer.parameters()]
            with torch.enable_grad():
                out = h
                for layer in layers[lo:hi]:
                    out = layer(out)
            grads = torch.autograd.grad(out, [h, *weights], grad_out)
            return (grads[0], None, None, *grads[1:])

    def run_once(checkpoint: bool) -> tuple[_Tracker, list[torch.Tensor], int]:
        layers.zero_grad(set_to_none=True)
        calls["forward"] = 0
        tracker = _Tracker({p.untyped_storage().data_ptr() for p in layers.parameters()})
        with torch.autograd.graph.saved_tensors_hooks(tracker.pack, tracker.unpack):
            h = x
            if checkpoint:
                bounds = [round(i * params.depth / segments) for i in range(segments + 1)]
                for lo, hi in zip(bounds, bounds[1:], strict=False):
                    weights = [p for layer in layers[lo:hi] for p in layer.parameters()]
                    h = Segment.apply(h, lo, hi, *weights)
            else:
                for layer in layers:
                    h = layer(h)
            loss = h.pow(2).mean()
            loss.backward()
            del h, loss
            gc.collect()
        grads = [p.grad.detach().clone() for p in layers.parameters()]
        return tracker, grads, calls["forward"]

    ctx.progress(0.2, "storing every activation")
    plain, plain_grads, plain_calls = run_once(False)
    ctx.progress(0.6, "checkpointed segments")
    ckpt, ckpt_grads, ckpt_calls = run_once(True)

    saving = plain.peak / max(ckpt.peak, 1)
    num = sum(float((a - b).pow(2).sum()) for a, b in zip(plain_grads, ckpt_grads, strict=True))
    den = sum(float(a.pow(2).sum()) for a in plain_grads)
    grad_err = (num / den) ** 0.5
    one_activation = params.batch * params.width * x.element_size()

    claims = [
        Claim(
            id="checkpointing-cuts-peak-activation-memory",
            text=CLAIMS["checkpointing-cuts-peak-activation-memory"],
            passed=saving >= 2.0,
            values={"peak_plain": plain.peak, "peak_checkpointed": ckpt.peak, "ratio": saving},
        ),
        Claim(
            id="one-extra-forward",
            text=CLAIMS["one-extra-forward"],
            passed=plain_calls == params.depth and ckpt_calls == 2 * params.depth,
            values={"forwards_plain": plain_calls, "forwards_checkpointed": ckpt_calls},
        ),
        Claim(
            id="gradients-unchanged",
            text=CLAIMS["gradients-unchanged"],
            passed=grad_err < 1e-6,
            values={"relative_error": grad_err},
        ),
    ]
    bar = Chart(
        id="peak-bytes",
        title="Peak bytes saved for backward",
        kind="bar",
        x_label="run",
        y_label="peak saved bytes",
        categories=["store all", "checkpointed"],
        series=[Series(name="peak saved bytes", x=[0, 1], y=[plain.peak, ckpt.peak])],
    )
    trace = Chart(
        id="live-bytes",
        title="Live saved bytes over time",
        x_label="event (save or free)",
        y_label="live bytes",
        series=[
            Series(name="store all", x=list(range(len(plain.trace))), y=plain.trace),
            Series(name="checkpointed", x=list(range(len(ckpt.trace))), y=ckpt.trace),
        ],
    )
    table = Table(
        title="Memory and compute",
        columns=["run", "peak saved bytes", "layer forwards"],
        rows=[["store all", plain.peak, plain_calls], ["checkpointed", ckpt.peak, ckpt_calls]],
    )
    return DemoResult(
        summary=(
            f"{params.depth} layers, {segments} segments: peak saved bytes {plain.peak} -> "
            f"{ckpt.peak} ({saving:.1f}x less) for {ckpt_calls} layer forwards instead of "
            f"{plain_calls}; gradients differ by {grad_err:.1e}."
        ),
        summary_zh=(
            f"{params.depth} 层、{segments} 段：峰值保存字节数 {plain.peak} -> {ckpt.peak}"
            f"（少 {saving:.1f} 倍），层前向次数从 {plain_calls} 变为 {ckpt_calls}；"
            f"梯度相对误差 {grad_err:.1e}。"
        ),
        metrics={
            "peak_bytes_plain": plain.peak,
            "peak_bytes_checkpointed": ckpt.peak,
            "memory_ratio": saving,
            "activation_bytes_one_layer": one_activation,
            "gradient_relative_error": grad_err,
        },
        tables=[table],
        charts=[bar, trace],
        claims=claims,
    )
