"""Resource limits applied inside a worker, and how a failure is explained to a learner."""

from __future__ import annotations

import resource
import signal

MB = 1024 * 1024


def apply_static_limits(memory_mb: int, max_file_mb: int = 256) -> None:
    """Called once in a fresh worker, after its warm-up.

    RLIMIT_DATA (private writable memory: heap, anonymous mmaps, torch's allocator) rather
    than RLIMIT_AS: torch alone reserves over 600 MB of address space, and CUDA reserves
    far more, so an address-space cap either kills every run or caps nothing.
    """
    limit = memory_mb * MB
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # os.abort() must not write a core file
    fsize = max_file_mb * MB
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))


def apply_cpu_limit(timeout_s: float) -> None:
    """A CPU-seconds backstop a little past the wall-clock limit the pool enforces."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    soft = int(used + timeout_s + 5)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def is_memory_error(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and (
        "can't allocate memory" in text or "out of memory" in text or "not enough memory" in text
    )


def describe_exit(status: int | None, memory_mb: int) -> tuple[str, str]:
    """(reason code, sentence) for a worker that died without reporting a result.

    ``status`` follows subprocess conventions: negative = killed by that signal.
    """
    if status is None:
        return "crashed", "The demo's process died and its exit status is unknown."
    if status < 0:
        sig = -status
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig == signal.SIGKILL:
            return (
                "memory",
                f"The demo's process was killed (SIGKILL), most likely for using more than "
                f"{memory_mb} MB of memory.",
            )
        if sig == signal.SIGXCPU:
            return "timeout", "The demo used up its CPU-time limit and was stopped."
        return "crashed", f"The demo's process crashed ({name})."
    return "crashed", f"The demo's process exited with status {status} before reporting a result."
