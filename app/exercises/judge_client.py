"""The web side of the judge: starts ``app.workers.judge_host`` as a child process and
asks it for verdicts. Imports no torch. Thread-safe; call ``judge`` from a thread (e.g.
``asyncio.to_thread``), since a verdict takes from a fraction of a second to the limit.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from app.exercises.sandboxing import project_root


class JudgeUnavailable(RuntimeError):
    """The judge process is not running or did not answer; the message says why."""


class JudgeClient:
    def __init__(self, *, workers: int = 2, timeout_s: float = 180.0) -> None:
        self.timeout_s = timeout_s
        self._ids = itertools.count()
        self._waiting: dict[str, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "app.workers.judge_host", str(workers)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=str(project_root()),
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                waiting = self._waiting.pop(str(message.get("id")), None)
            if waiting is not None:
                waiting[1].append(message)
                waiting[0].set()
        with self._lock:  # the host died: wake everyone
            for event, _ in self._waiting.values():
                event.set()
            self._waiting.clear()

    def judge(self, exercise_path: Path, code: str) -> dict[str, Any]:
        """The verdict as a dict (see ``Verdict``). Raises JudgeUnavailable."""
        message = self._ask({"exercise": str(exercise_path), "code": code})
        verdict: dict[str, Any] = message["verdict"]
        return verdict

    def run_demo(self, source: str, params: dict[str, Any]) -> dict[str, Any]:
        """Runs a learner's edited copy of a demo in the judge's sandbox (a fresh process,
        the judge's limits): ``{"ok", "reason", "message", "result"?, "seconds"}``.
        Raises JudgeUnavailable."""
        message = self._ask({"demo_source": source, "params": params})
        outcome: dict[str, Any] = message["demo_run"]
        return outcome

    def _ask(self, payload: dict[str, Any]) -> dict[str, Any]:
        ident = str(next(self._ids))
        event, box = threading.Event(), []  # type: tuple[threading.Event, list[dict[str, Any]]]
        with self._lock:
            if self._process.poll() is not None:
                raise JudgeUnavailable("the judge process is not running")
            self._waiting[ident] = (event, box)
            assert self._process.stdin is not None
            request = {"id": ident, **payload}
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
        if not event.wait(self.timeout_s) or not box:
            with self._lock:
                self._waiting.pop(ident, None)
            raise JudgeUnavailable("the judge did not answer in time")
        message = box[0]
        if "error" in message:
            raise JudgeUnavailable(str(message["error"]))
        return message

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
