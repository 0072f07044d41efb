"""The exercise panel's context for any page (card page, practice, exercise page), and
the app's exercise service. Kept apart from the routes so pages can include the panel
without importing another route module."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from app.services.exercises.service import ExerciseNotFound, ExerciseService
from app.web.i18n import request_language

RATING_NAMES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}


def exercise_service(request: Request) -> ExerciseService:
    service: ExerciseService = request.app.state.exercise_service
    return service


def learner_id(request: Request) -> int | None:
    user_id = getattr(request.state, "user_id", None)
    return int(user_id) if user_id is not None else None


def exercise_panel(
    request: Request, user_id: int | None, *, card_id: str | None = None, name: str | None = None
) -> dict[str, Any] | None:
    """The ``exercise`` variable of ``exercise/_panel.html`` for a card (by id) or an
    exercise (by name); None when the card links no exercise or it is missing. Opens the
    signed-in learner's attempt. Blocking: call from a sync route (a worker thread)."""
    service = exercise_service(request)
    if name is None:
        if card_id is None:
            return None
        name = service.catalog.exercise_of_card(card_id)
        if name is None:
            return None
    try:
        return service.view(user_id, name, request_language(request), card_id=card_id)
    except ExerciseNotFound:
        return None
