"""A CPU-only stand-in for "this demo on another device": random numbers drawn *on the
device* come from a different stream than the CPU's, as on CUDA.

``DeviceRngSimulation`` is a TorchFunctionMode. The demo gets ``ctx.device`` = ``DEVICE``
("cpu:0": the CPU, but told apart from a plain "cpu" by its index, also after
``torch.device(ctx.device)``): tensors made with ``device=DEVICE``, moved with
``.to(DEVICE)``, or computed from such tensors count as on the device, and any random op
that draws for them (``randn(device=...)``, ``randn_like``, ``normal_``, dropout, ...)
draws from another generator. A demo that draws its inputs on the CPU from the seed and
then moves them gives the same numbers with and without the mode; one that draws on the
device does not.
"""

from __future__ import annotations

import weakref
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

DEVICE = "cpu:0"

RANDOM_OPS = {
    "randn", "rand", "randint", "randperm", "normal", "bernoulli", "multinomial", "poisson",
    "rand_like", "randn_like", "randint_like", "normal_", "uniform_", "random_",
    "bernoulli_", "exponential_", "geometric_", "cauchy_", "log_normal_", "dropout",
    "dropout_", "dropout1d", "dropout2d", "dropout3d", "feature_dropout", "alpha_dropout",
    "feature_alpha_dropout", "rrelu", "rrelu_", "gumbel_softmax",
}  # fmt: skip


class DeviceRngSimulation(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self._on_device: dict[int, weakref.ref] = {}
        self.device_draws = 0

    def _marked(self, value: object) -> bool:
        if isinstance(value, torch.Tensor):
            ref = self._on_device.get(id(value))
            return ref is not None and ref() is value
        if isinstance(value, str):
            return value == DEVICE
        return isinstance(value, torch.device) and value.type == "cpu" and value.index == 0

    def _mark(self, value: object) -> None:
        if isinstance(value, torch.Tensor):
            key = id(value)
            self._on_device[key] = weakref.ref(
                value, lambda _r, k=key: self._on_device.pop(k, None)
            )

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        leaves, _ = tree_flatten((args, kwargs))
        on_device = any(self._marked(leaf) for leaf in leaves)
        name = getattr(func, "__name__", "")
        dropout_p = kwargs.get("p", args[1] if len(args) > 1 else 0.5)
        draws = name in RANDOM_OPS and not (
            "dropout" in name
            and (
                not kwargs.get("training", args[2] if len(args) > 2 else True)
                or (isinstance(dropout_p, (int, float)) and dropout_p == 0)
            )
        )  # dropout in eval mode, or with p = 0, draws nothing
        if on_device and draws:
            self.device_draws += 1
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(1_000_003 * self.device_draws)
                out = func(*args, **kwargs)
        else:
            out = func(*args, **kwargs)
        back = on_device and self._back_to_the_cpu(name, args, kwargs)
        if back and args and out is args[0]:
            out = out.clone()  # on CUDA this is a new CPU tensor, not the device one
        if on_device and not back:
            for leaf in tree_flatten(out)[0]:
                self._mark(leaf)
            if name.endswith("_") and args:  # an in-place op keeps its tensor on the device
                self._mark(args[0])
        return out

    @staticmethod
    def _back_to_the_cpu(name: str, args: Any, kwargs: Any) -> bool:
        """``.cpu()`` or ``.to("cpu")``: the result is a CPU tensor, as on CUDA."""
        if name == "cpu":
            return True
        if name != "to":
            return False
        target = kwargs.get("device", args[1] if len(args) > 1 else None)
        if isinstance(target, str):
            return target == "cpu"
        return isinstance(target, torch.device) and target.type == "cpu" and target.index is None
