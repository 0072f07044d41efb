"""The judge's own process, so the web process never imports torch: reads one JSON
request per line on stdin, writes one JSON verdict per line on stdout.

Request: ``{"id": str, "exercise": "<content dir>/exercises/<name>.py", "code": str}``.
Reply: ``{"id": str, "verdict": {...}}`` (``Verdict.to_dict()``) or ``{"id", "error"}``.
Or, for a learner's edited copy of a demo, ``{"id", "demo_source": str, "params": {...}}``
and the reply ``{"id", "demo_run": {...}}`` (``app.workers.demo_copy.demo_outcome``).
Requests are judged concurrently (up to the judge's workers); replies come as each ends.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from app.exercises.format import ExerciseFormatError, load_exercise
from app.workers.exercise_cases import ExerciseSetupError
from app.workers.judge_runner import Judge


def main() -> None:
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    judge = Judge(workers=workers, spares=workers)
    judge.warm_up()
    out_lock = threading.Lock()
    # Replies go to our own handle on fd 1: the in-process reference run swaps
    # sys.stdout while it captures prints.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")

    def reply(message: dict[str, Any]) -> None:
        line = json.dumps(message) + "\n"
        with out_lock:
            out.write(line)
            out.flush()

    def handle(request: dict[str, Any]) -> None:
        ident = str(request.get("id", ""))
        if "demo_source" in request:  # an edited copy of a demo, run like a submission
            params = request.get("params")
            outcome = judge.run_demo(
                str(request["demo_source"]), params if isinstance(params, dict) else {}
            )
            reply({"id": ident, "demo_run": outcome})
            return
        try:
            exercise = load_exercise(Path(str(request["exercise"])))
            verdict = judge.judge(exercise, str(request["code"]))
        except (KeyError, ExerciseFormatError, ExerciseSetupError, OSError) as exc:
            reply({"id": ident, "error": f"the exercise cannot be judged: {exc}"})
            return
        reply({"id": ident, "verdict": verdict.to_dict()})

    with ThreadPoolExecutor(max(4, workers * 4)) as pool:
        for line in sys.stdin:
            try:
                request = json.loads(line)
            except ValueError:
                reply({"id": "", "error": "malformed request"})
                continue
            pool.submit(handle, request)
    judge.close()


if __name__ == "__main__":
    main()
