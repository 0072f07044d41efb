"""Resource limits applied inside a worker, and how a failure is explained to a learner."""

from __future__ import annotations

import contextlib
import resource
import signal

MB = 1024 * 1024


def data_footprint() -> int:
    """Bytes of private writable memory (``VmData``) this process maps now: what
    RLIMIT_DATA counts. After CUDA and cuDNN start this is already 1.5-1.9 GB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def data_limit(memory_mb: int, footprint: int) -> int:
    """RLIMIT_DATA for a worker: its footprint after the device started, plus the run's
    budget. A fixed cap below the footprint broke every CUDA run; this one still stops a
    memory bomb after ``memory_mb`` more."""
    return footprint + memory_mb * MB


def apply_static_limits(memory_mb: int, max_file_mb: int = 256, max_threads: int = 0) -> None:
    """Called once in a fresh worker, after its warm-up (device initialised).

    RLIMIT_DATA (private writable memory: heap, anonymous mmaps, torch's allocator) rather
    than RLIMIT_AS: torch alone reserves over 600 MB of address space, and CUDA reserves
    far more, so an address-space cap either kills every run or caps nothing. It is set
    relative to the footprint measured now, so it works on both devices.
    ``max_threads``: RLIMIT_NPROC where it applies (a uid that maps to root ignores it;
    the sandbox's cgroup pids limit is the real cap there).
    """
    if max_threads > 0:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NPROC, (max_threads, max_threads))
    limit = data_limit(memory_mb, data_footprint())
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


# Errors that can leave a CUDA context or the process's allocator broken: the worker that
# saw one is retired, and the next job gets a fresh one.
DEVICE_ERROR_MARKERS = (
    "cuda error",
    "cuda out of memory",
    "cublas_status",
    "cusolver_status",
    "cudnn_status",
    "cufft_internal_error",
    "nccl error",
    "std::bad_alloc",
    "defaultcpuallocator",
    "can't allocate memory",
    "device-side assert",
    "illegal memory access",
    "can't start new thread",  # the sandbox's pids limit: the process is full of threads
)


def is_device_error(exc: BaseException) -> bool:
    """A CUDA or allocation failure (not the demo's own logic): retire the worker."""
    if isinstance(exc, MemoryError):
        return True
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(marker in text for marker in DEVICE_ERROR_MARKERS) or (
        type(exc).__name__ in ("OutOfMemoryError", "AcceleratorError")
    )


def is_memory_error(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and (
        "can't allocate memory" in text or "out of memory" in text or "not enough memory" in text
    )


def describe_exit(
    status: int | None, memory_mb: int, oom_killed: bool | None = None
) -> tuple[str, str]:
    """(reason code, sentence) for a worker that died without reporting a result.

    ``status`` follows subprocess conventions: negative = killed by that signal.
    ``oom_killed``: whether the sandbox's cgroup counted an out-of-memory kill during the
    run (None: no cgroup, so unknown). A SIGKILL is blamed on memory only on that evidence.
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
            if oom_killed:
                return (
                    "memory",
                    f"The demo's process was killed by the kernel for using more memory "
                    f"than the sandbox allows (about {memory_mb} MB per run).",
                )
            return "killed", "The demo's process was killed from outside (SIGKILL)."
        if sig == signal.SIGXCPU:
            return "timeout", "The demo used up its CPU-time limit and was stopped."
        return "crashed", f"The demo's process crashed ({name})."
    return "crashed", f"The demo's process exited with status {status} before reporting a result."
