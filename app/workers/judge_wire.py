"""The judge's wire format: nested values holding tensors, as bytes a hostile process
may have written.

A payload is ``MAGIC``, an 8-byte header length, a JSON header, then the tensors' raw
bytes. Decoding checks every size against ``max_bytes`` before allocating, allows only
plain dtypes and never unpickles, so a submission cannot make the trusted side run code
or allocate more than the cap.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import torch

MAGIC = b"BPJ1"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 16
MAX_ITEMS = 100_000

_DTYPES: dict[str, torch.dtype] = {
    "float64": torch.float64,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "int64": torch.int64,
    "int32": torch.int32,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
_NAMES = {dtype: name for name, dtype in _DTYPES.items()}


class WireError(ValueError):
    """The payload is malformed or too large; the message says how."""


def encode(value: Any, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Raises WireError for a value that is not plain data or is larger than ``max_bytes``."""
    blobs: list[bytes] = []
    size = [0]

    def walk(item: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise WireError(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, torch.Tensor):
            tensor = item.detach()
            if tensor.dtype not in _NAMES:
                raise WireError(f"unsupported tensor dtype {tensor.dtype}")
            nbytes = tensor.numel() * tensor.element_size()
            size[0] += nbytes
            if size[0] > max_bytes:
                raise WireError(f"output larger than {max_bytes // (1024 * 1024)} MB")
            tensor = tensor.to("cpu").contiguous()
            raw = tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if nbytes else b""
            blobs.append(raw)
            return {"t": _NAMES[tensor.dtype], "s": list(tensor.shape)}
        if item is None or isinstance(item, bool | int | str):
            return item
        if isinstance(item, float):
            return {"f": repr(item)} if not math.isfinite(item) else item
        if isinstance(item, list | tuple):
            if len(item) > MAX_ITEMS:
                raise WireError(f"a list longer than {MAX_ITEMS} items")
            return {"l" if isinstance(item, list) else "u": [walk(i, depth + 1) for i in item]}
        if isinstance(item, dict):
            if not all(isinstance(k, str) for k in item):
                raise WireError("dict keys must be strings")
            return {"d": {k: walk(v, depth + 1) for k, v in item.items()}}
        raise WireError(f"cannot send a value of type {type(item).__name__}")

    header = json.dumps(walk(value, 0)).encode()
    return MAGIC + struct.pack("<Q", len(header)) + header + b"".join(blobs)


def decode(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """The value ``encode`` wrote; raises WireError on anything else."""
    if len(data) > max_bytes + 1024 * 1024:
        raise WireError(f"output larger than {max_bytes // (1024 * 1024)} MB")
    if len(data) < 12 or data[:4] != MAGIC:
        raise WireError("not a judge payload")
    (length,) = struct.unpack("<Q", data[4:12])
    if length > len(data) - 12:
        raise WireError("truncated header")
    try:
        tree = json.loads(data[12 : 12 + length])
    except ValueError as exc:
        raise WireError(f"bad header: {exc}") from exc
    offset = [12 + length]
    count = [0]

    def walk(node: Any, depth: int) -> Any:
        count[0] += 1
        if depth > MAX_DEPTH or count[0] > MAX_ITEMS:
            raise WireError("payload too deeply nested or too long")
        if node is None or isinstance(node, bool | int | str | float):
            return node
        if not isinstance(node, dict) or len(node) > 2:
            raise WireError("bad node")
        if "t" in node:
            dtype = _DTYPES.get(node["t"])
            shape = node.get("s")
            if dtype is None or not isinstance(shape, list):
                raise WireError(f"bad tensor {node!r:.80}")
            if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
                raise WireError("bad tensor shape")
            numel = math.prod(shape)
            nbytes = numel * torch.empty(0, dtype=dtype).element_size()
            if nbytes > max_bytes or offset[0] + nbytes > len(data):
                raise WireError("tensor larger than the payload or the cap")
            raw = bytearray(data[offset[0] : offset[0] + nbytes])
            offset[0] += nbytes
            if not nbytes:
                return torch.empty(shape, dtype=dtype)
            return torch.frombuffer(raw, dtype=dtype).reshape(shape).clone()
        if "f" in node:
            return float(node["f"]) if node["f"] in ("inf", "-inf", "nan") else _bad()
        if "l" in node and isinstance(node["l"], list):
            return [walk(i, depth + 1) for i in node["l"]]
        if "u" in node and isinstance(node["u"], list):
            return tuple(walk(i, depth + 1) for i in node["u"])
        if "d" in node and isinstance(node["d"], dict):
            return {str(k): walk(v, depth + 1) for k, v in node["d"].items()}
        return _bad()

    return walk(tree, 0)


def _bad() -> Any:
    raise WireError("bad node")
