"""Hostile test demo: Opens a socket."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.demos.contract import DemoContext, DemoResult

TITLE = "network"
DESCRIPTION = "Opens a socket."
CLAIMS: dict[str, str] = {}


class Params(BaseModel):
    n: int = Field(1, ge=0, le=10, description="Unused")


def run(params: Params, ctx: DemoContext) -> DemoResult:
    import socket

    socket.create_connection(("127.0.0.1", 9), timeout=1)
    return DemoResult(summary="connected")
