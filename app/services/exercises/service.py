"""Exercises for one learner, end to end: the panel's view, a submission (saved, judged
off the caller's thread by the judge process, recorded), hints, giving up, and the
confirmed rating. No fastapi, no torch: the judge is a callable the web layer supplies.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from app.db import session_scope
from app.exercises.format import LANGS, Exercise
from app.models.exercise import ExerciseAttempt
from app.services.demo_runs import RateLimiter
from app.services.errors import ServiceError
from app.services.exercises import attempts
from app.services.exercises.catalog import ExerciseCatalog, ExerciseNotFound
from app.services.scheduling.clock import SYSTEM_CLOCK, Clock
from app.services.scheduling.exercise_queue import exercise_queue

__all__ = [
    "CodeInvalid",
    "ExerciseNotFound",
    "ExerciseService",
    "JudgeBusy",
    "JudgeDown",
    "MAX_CODE_CHARS",
    "SignInRequired",
]

# The exercise format caps starter and reference at 20,000 characters; a learner's
# answer is the same kind of text.
MAX_CODE_CHARS = 20_000

Judge = Callable[[Path, str], dict[str, Any]]


class CodeInvalid(ServiceError):
    code = "code_invalid"
    status = 422


class SignInRequired(ServiceError):
    code = "sign_in_required"
    status = 401


class JudgeBusy(ServiceError):
    """Too many submissions from this learner; ``retry_after_s`` says when to retry."""

    code = "judge_busy"
    status = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class JudgeDown(ServiceError):
    code = "judge_unavailable"
    status = 503


def check_code(code: Any) -> str:
    """The code, or CodeInvalid saying what is wrong with it."""
    if not isinstance(code, str):
        raise CodeInvalid("The code must be a string of Python.")
    if len(code) > MAX_CODE_CHARS:
        raise CodeInvalid(
            f"The code is {len(code):,} characters long; the limit is {MAX_CODE_CHARS:,}."
        )
    if "\x00" in code:
        raise CodeInvalid("The code contains a NUL character.")
    if not code.strip():
        raise CodeInvalid("The code is empty.")
    # No-break spaces come with code pasted from web pages; Python refuses them.
    return code.replace("\u00a0", " ")


_INLINE_CODE = re.compile(r"`([^`]+)`")


def task_html(text: str) -> str:
    """The task text, escaped, with `inline code` as <code>."""
    return _INLINE_CODE.sub(r"<code>\1</code>", html.escape(text))


@dataclass
class _InFlight:
    """Submissions being judged, per learner: one at a time each."""

    users: set[int]
    lock: threading.Lock

    def enter(self, user_id: int) -> bool:
        with self.lock:
            if user_id in self.users:
                return False
            self.users.add(user_id)
            return True

    def leave(self, user_id: int) -> None:
        with self.lock:
            self.users.discard(user_id)


class ExerciseService:
    """Thread-safe; every method is blocking (call it from a worker thread)."""

    def __init__(
        self,
        engine: Engine,
        catalog: ExerciseCatalog,
        judge: Judge,
        *,
        limiter: Any | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.engine = engine
        self.catalog = catalog
        self.judge = judge
        self.limiter = limiter or RateLimiter(per_minute=12, burst=5)
        self.clock = clock
        self._in_flight = _InFlight(set(), threading.Lock())

    # --- views ---------------------------------------------------------------------

    def view(
        self, user_id: int | None, name: str, lang: str, *, card_id: str | None = None
    ) -> dict[str, Any]:
        """What the panel shows. For a signed-in learner this opens an attempt (its clock
        starts now) and restores their last code."""
        exercise = self.catalog.get(name)
        card_id = card_id or self.catalog.card_of_exercise(exercise.name)
        if user_id is None:
            return self._view(exercise, None, None, lang, card_id)
        with session_scope(self.engine, write=True) as session:
            attempt = attempts.open_attempt(
                session, user_id, exercise.name, card_id, self.clock.now()
            )
            code = attempts.last_code(session, user_id, exercise.name)
            return self._view(exercise, attempt, code, lang, card_id)

    def _view(
        self,
        exercise: Exercise,
        attempt: ExerciseAttempt | None,
        code: str | None,
        lang: str,
        card_id: str | None,
    ) -> dict[str, Any]:
        lang = lang if lang in LANGS else "en"
        meta = exercise.meta
        hints: list[str] = getattr(meta.HINTS, lang)
        shown = attempt.hints_used if attempt else 0
        done = attempt is not None and attempts.finished(attempt)
        return {
            "name": exercise.name,
            "title": exercise.title(lang),
            "task_html": task_html(getattr(meta.TASK, lang)),
            "function": meta.FUNCTION,
            "starter": meta.STARTER,
            "code": code if code is not None else meta.STARTER,
            "time_budget_s": meta.TIME_BUDGET_S,
            "card_id": card_id if attempt is None else attempt.card_id,
            "signed_in": attempt is not None,
            "attempt_id": attempt.id if attempt else None,
            "hints": hints[:shown],
            "hints_html": [task_html(hint) for hint in hints[:shown]],
            "hints_total": len(hints),
            "verdict": attempt.last_verdict if attempt else None,
            "submissions": attempt.submissions if attempt else 0,
            "passed": attempt is not None and attempt.passed_at is not None,
            "gave_up": bool(attempt and attempt.gave_up),
            "solution": meta.REFERENCE if done else None,
            "explanation": getattr(meta.EXPLANATION, lang) if done else None,
            "suggested_rating": attempts.suggested(attempt, exercise) if attempt else None,
            "confirmed": bool(attempt and attempt.confirmed_at),
            "rating": attempt.rating if attempt else None,
        }

    # --- actions -------------------------------------------------------------------

    def _act(
        self,
        user_id: int | None,
        name: str,
        lang: str,
        action: Callable[[ExerciseAttempt, Exercise], None],
    ) -> dict[str, Any]:
        if user_id is None:
            raise SignInRequired("Sign in to work on exercises; your code and progress are kept.")
        exercise = self.catalog.get(name)
        card_id = self.catalog.card_of_exercise(exercise.name)
        with session_scope(self.engine, write=True) as session:
            attempt = attempts.open_attempt(
                session, user_id, exercise.name, card_id, self.clock.now()
            )
            action(attempt, exercise)
            session.add(attempt)
            code = attempts.last_code(session, user_id, exercise.name)
            return self._view(exercise, attempt, code, lang, card_id)

    def reveal_hint(self, user_id: int | None, name: str, lang: str) -> dict[str, Any]:
        return self._act(user_id, name, lang, attempts.reveal_hint)

    def give_up(self, user_id: int | None, name: str, lang: str) -> dict[str, Any]:
        def mark(attempt: ExerciseAttempt, exercise: Exercise) -> None:
            attempt.gave_up = True

        return self._act(user_id, name, lang, mark)

    def submit(
        self, user_id: int | None, name: str, code: Any, lang: str, *, rate_key: str = ""
    ) -> dict[str, Any]:
        """Saves the code, judges it in the judge's sandbox and records the verdict.
        Refusals: SignInRequired, ExerciseNotFound, CodeInvalid, JudgeBusy, JudgeDown."""
        if user_id is None:
            raise SignInRequired("Sign in to submit code; your code and progress are kept.")
        exercise = self.catalog.get(name)
        code = check_code(code)
        card_id = self.catalog.card_of_exercise(exercise.name)
        learner, saved = user_id, []

        def save() -> None:
            with session_scope(self.engine, write=True) as session:
                attempt = attempts.open_attempt(
                    session, learner, exercise.name, card_id, self.clock.now()
                )
                attempts.save_code(session, learner, exercise.name, code, self.clock.now())
                saved.append(attempt.id)

        verdict = self.judge_for(user_id, exercise.path, code, before=save, rate_key=rate_key)
        with session_scope(self.engine, write=True) as session:
            row = session.get(ExerciseAttempt, saved[0])
            if row is None or row.confirmed_at is not None:  # confirmed in another tab
                row = attempts.open_attempt(
                    session, user_id, exercise.name, card_id, self.clock.now()
                )
            attempts.record_verdict(row, verdict, self.clock.now())
            session.add(row)
            return self._view(exercise, row, code, lang, card_id)

    def judge_for(
        self,
        user_id: int,
        path: Path,
        code: str,
        *,
        before: Callable[[], None] | None = None,
        rate_key: str = "",
    ) -> dict[str, Any]:
        """Judges ``code`` for this learner: rate-limited, one submission at a time each,
        no database transaction held while the judge works. ``before`` runs once the
        submission is admitted (e.g. to save the code). Raises JudgeBusy, JudgeDown."""
        wait = self.limiter.acquire(rate_key or f"user:{user_id}")
        if wait:
            raise JudgeBusy(f"Too many submissions; try again in {wait} s.", wait)
        if not self._in_flight.enter(user_id):
            raise JudgeBusy("Your previous submission is still being judged.", 2)
        try:
            if before is not None:
                before()
            try:
                return self.judge(path, code)
            except RuntimeError as exc:  # JudgeUnavailable; the message says why
                raise JudgeDown(f"The judge is unavailable: {exc}. Try again shortly.") from exc
        finally:
            self._in_flight.leave(user_id)

    def confirm(self, user_id: int | None, name: str, rating: Any, lang: str) -> dict[str, Any]:
        """Logs the confirmed rating as a review of kind "exercise" and closes the
        attempt; the view returned is of the closed attempt (with ``review_log_id``)."""
        if user_id is None:
            raise SignInRequired("Sign in to rate exercises.")
        if isinstance(rating, bool) or not isinstance(rating, int):
            raise attempts.AttemptConflict("The rating must be a whole number from 1 to 4.")
        exercise = self.catalog.get(name)
        card_id = self.catalog.card_of_exercise(exercise.name)
        with session_scope(self.engine, write=True) as session:
            attempt = attempts.open_attempt(
                session, user_id, exercise.name, card_id, self.clock.now()
            )
            result = attempts.confirm(session, attempt, rating, clock=self.clock)
            code = attempts.last_code(session, user_id, exercise.name)
            view = self._view(exercise, attempt, code, lang, card_id)
            view["review_log_id"] = result.log_id
            view["next_due"] = result.due.isoformat() if result.due else None
            return view

    # --- the queue -----------------------------------------------------------------

    def queue(self, user_id: int, lang: str, *, limit: int = 50) -> list[dict[str, Any]]:
        """Exercises to study on their own: due ones first, then never-done ones."""
        links = self.catalog.links().exercise_of_card
        with session_scope(self.engine) as session:
            items = exercise_queue(session, user_id, links, self.clock.now(), limit=limit)
        found = []
        for item in items:
            try:
                exercise = self.catalog.get(item.exercise)
            except ExerciseNotFound:
                continue  # a broken file: `backprop check` names it
            found.append(
                {
                    "exercise": item.exercise,
                    "title": exercise.title(lang),
                    "card_id": item.card_id,
                    "card_title": item.title,
                    "due": item.due.isoformat() if item.due else None,
                    "new": item.new,
                }
            )
        return found
