"""Logging for every process the `backprop` command starts: one line per record, the
message as given (the web layer's access log writes its own JSON lines)."""

from __future__ import annotations

import logging


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(message)s")
