"""Mock interview coding rounds, end to end: choose the exercise, start the clock, judge a
submission (through the exercise service's judge and limits) and score it by the tests.
The round's rules live in app.services.interview.coding."""

from __future__ import annotations

from typing import Any

from app.db import session_scope
from app.services.exercises.service import ExerciseService, check_code, task_html
from app.services.interview import coding
from app.services.interview.service import get_interview
from app.services.scheduling.exercise_queue import exercise_queue


class CodingRounds:
    def __init__(self, exercises: ExerciseService) -> None:
        self.exercises = exercises

    def start(self, user_id: int, interview_id: int) -> None:
        """Starts the interview's coding round (idempotent). Raises NotFound, RoundClosed."""
        service, catalog = self.exercises, self.exercises.catalog
        links = catalog.links().exercise_of_card
        now = service.clock.now()
        with session_scope(service.engine, write=True) as session:
            interview = get_interview(session, user_id, interview_id)
            queued = [q.exercise for q in exercise_queue(session, user_id, links, now, limit=5)]
            choice = coding.choose_exercise(interview.plan, links, queued or catalog.names())
            if choice is None:
                raise coding.NotFound("There is no exercise for a coding round.")
            exercise = catalog.get(choice[0])
            coding.start_round(
                session, user_id, interview_id, exercise.name, choice[1],
                exercise.meta.TIME_BUDGET_S, now,
            )  # fmt: skip

    def view(self, user_id: int, interview_id: int, lang: str) -> dict[str, Any]:
        service = self.exercises
        now = service.clock.now()
        with session_scope(service.engine) as session:
            row = coding.get_round(session, user_id, interview_id)
            if row is None:
                raise coding.NotFound(
                    "This interview has no coding round; start one from its report."
                )
            exercise = service.catalog.get(row.exercise)
            result = coding.summary(row, now)
            return {
                "interview_id": interview_id,
                "name": exercise.name,
                "title": exercise.title(lang),
                "task_html": task_html(
                    getattr(exercise.meta.TASK, lang if lang in ("en", "zh") else "en")
                ),
                "code": row.code or exercise.meta.STARTER,
                "verdict": row.last_verdict,
                "seconds_left": max(0, int((row.deadline_at - now).total_seconds())),
                "deadline_at": row.deadline_at.isoformat(),
                "summary": result,
            }

    def submit(self, user_id: int, interview_id: int, code: Any, lang: str) -> dict[str, Any]:
        """Judges the code against the round's exercise and records it while the time
        lasts. Raises CodeInvalid, RoundClosed, NotFound, JudgeBusy, JudgeDown."""
        service = self.exercises
        code = check_code(code)
        with session_scope(service.engine) as session:
            row = coding.open_round(session, user_id, interview_id, service.clock.now())
            path = service.catalog.get(row.exercise).path
        verdict = service.judge_for(user_id, path, code)
        with session_scope(service.engine, write=True) as session:
            # Judged in time counts; the deadline is checked when the code came in.
            current = coding.get_round(session, user_id, interview_id)
            if current is None:
                raise coding.NotFound("This interview has no coding round.")
            coding.record(current, code, verdict)
            session.add(current)
        return self.view(user_id, interview_id, lang)

    def finish(self, user_id: int, interview_id: int) -> None:
        service = self.exercises
        with session_scope(service.engine, write=True) as session:
            coding.finish_round(session, user_id, interview_id, service.clock.now())

    def summary(self, user_id: int, interview_id: int) -> coding.CodingSummary | None:
        service = self.exercises
        with session_scope(service.engine) as session:
            row = coding.get_round(session, user_id, interview_id)
            return coding.summary(row, service.clock.now()) if row else None
