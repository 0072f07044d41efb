"""What the scheduler's services raise and return."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from app.services.errors import ServiceError

# --- errors -------------------------------------------------------------------


class SchedulingError(ServiceError):
    code = "scheduling_error"


class GradeConflict(SchedulingError):
    code, status = "conflict", 409


class IdempotencyMismatch(SchedulingError):
    code, status = "idempotency_key_reused", 422


class CardNotAvailable(SchedulingError):
    code, status = "card_not_available", 404


class NothingToUndo(SchedulingError):
    code, status = "nothing_to_undo", 409


# --- results --------------------------------------------------------------------


class ButtonInterval(BaseModel):
    rating: int
    label: str
    seconds: int
    text: str


class NextCard(BaseModel):
    card_id: str
    deck: str
    title: str
    queue: str  # learning | review | new | learn_ahead | cram
    version: int  # send it back with the grade: a changed card is refused (two tabs)
    due: datetime | None
    recall_now: float | None
    buttons: list[ButtonInterval]


class GradeResult(BaseModel):
    log_id: int
    card_id: str
    deck: str
    rating: int
    kind: str
    reviewed_at: datetime
    due: datetime | None
    interval_seconds: int | None
    version: int
    leech: bool
    replayed: bool  # True: this idempotency key was already recorded; nothing new written


class UndoResult(BaseModel):
    card_id: str
    rating: int
    kind: str
    version: int


class QueueCounts(BaseModel):
    learning: int
    review: int
    new: int


class DeckRecall(BaseModel):
    deck: str
    cards: int
    studied: int
    recall_studied: float | None  # mean predicted recall of the studied cards
    recall_all: float  # unstudied cards count as 0


class RecallReport(BaseModel):
    at: datetime
    overall: DeckRecall
    decks: list[DeckRecall]
