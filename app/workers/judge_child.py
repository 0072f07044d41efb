"""The throw-away process that runs one submission, inside the sandbox.

Reads one payload on stdin (code, function, forbidden names, cases, limits), sets its
rlimits, points fds 1 and 2 at /dev/null so the learner cannot flood them, runs the code
and writes the outputs to a private duplicate of stdout. Nothing here is trusted by the
judge: it only decodes the bytes and compares them itself.
"""

from __future__ import annotations

import os
import resource
import sys
from typing import Any

MB = 1024 * 1024
READY = b"R"


def _set_limits(limits: dict[str, int]) -> None:
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + int(limits["cpu_s"]) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = int(limits["memory_mb"]) * MB
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    files = int(limits["file_mb"]) * MB
    resource.setrlimit(resource.RLIMIT_FSIZE, (files, files))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main() -> None:
    import torch

    from app.workers.judge_harness import Case, run_submission
    from app.workers.judge_wire import WireError, decode, encode

    torch.set_num_threads(1)
    # Ready: the judge starts the submission's wall clock only now, not during imports.
    os.write(1, READY)
    request = decode(sys.stdin.buffer.read())
    limits = request["limits"]
    demo = request.get("mode") == "demo"  # an edited copy of a demo, not a submission
    cases = [] if demo else [Case(n, tuple(a), dict(k)) for n, a, k in request["cases"]]
    results = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    _set_limits(limits)
    result: Any
    try:
        if demo:
            from app.workers.demo_copy import run_demo_source

            max_chars = int(limits["output_mb"]) * MB // 2
            result = run_demo_source(request["code"], dict(request["params"]), max_chars)
        else:
            result = run_submission(
                request["code"],
                request["function"],
                cases,
                forbidden=request["forbidden"],
                grad_args=request["grad_args"],
            )
    except SystemExit as exc:
        result = {"error": f"the code called sys.exit({exc.code!r})", "reason": "error"}
    except MemoryError:
        result = {"error": "MemoryError: the submission ran out of memory", "reason": "memory"}
    except BaseException as exc:  # the learner's code broke the harness itself
        result = {"error": f"{type(exc).__name__}: {exc}"[:500], "reason": "error"}
    max_bytes = int(limits["output_mb"]) * MB
    try:
        payload = encode(result, max_bytes=max_bytes)
    except (WireError, MemoryError, RuntimeError) as exc:
        payload = encode({"error": f"the outputs cannot be sent back: {exc}", "reason": "output"})
    with os.fdopen(results, "wb") as out:
        out.write(payload)
    os._exit(0)  # skip interpreter teardown: nothing the learner registered runs
