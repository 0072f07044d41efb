"""Length-prefixed JSON frames over a stream socket, shared by the pool and the workers.

No torch here: both sides import it.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

HEADER = struct.Struct("!I")
# A demo result is charts and tables, not data sets: anything bigger is a bug in the demo.
MAX_FRAME = 8 * 1024 * 1024


class FrameTooLarge(Exception):
    pass


def encode(message: dict[str, Any] | str) -> bytes:
    payload = message if isinstance(message, str) else json.dumps(message, allow_nan=False)
    data = payload.encode()
    return HEADER.pack(len(data)) + data


def send(sock: socket.socket, message: dict[str, Any] | str) -> None:
    sock.sendall(encode(message))


def recv_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(min(size - len(chunks), 1 << 20))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def recv(sock: socket.socket) -> dict[str, Any] | None:
    """Blocking read of one frame; None at end of stream."""
    header = recv_exact(sock, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise FrameTooLarge(f"frame of {size} bytes")
    data = recv_exact(sock, size)
    if data is None:
        return None
    return json.loads(data)


class FrameBuffer:
    """Incremental decoder for non-blocking reads: feed bytes, take whole frames."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self._buf += data
        frames = []
        while len(self._buf) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buf)
            if size > MAX_FRAME:
                raise FrameTooLarge(f"frame of {size} bytes")
            if len(self._buf) < HEADER.size + size:
                break
            frames.append(json.loads(bytes(self._buf[HEADER.size : HEADER.size + size])))
            del self._buf[: HEADER.size + size]
        return frames
