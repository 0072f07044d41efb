"""Learners' history follows a card that took over a former id (``aliases``)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import Session

from app.models.review import ReviewLog, ReviewState


def move_alias_history(session: Session, old_id: str, new_id: str) -> None:
    """Importer hook: a card took over a former id; its learners' states and log move
    with it. Where a learner has states under both ids, the more recently reviewed one
    is kept (the log rows of both are kept)."""
    olds = session.execute(select(ReviewState).where(ReviewState.card_id == old_id)).scalars().all()  # type: ignore[arg-type]
    for old in olds:
        new = session.get(ReviewState, (old.user_id, new_id))
        if new is None:
            continue
        keep_old = (old.last_review_at or old.introduced_at) > (
            new.last_review_at or new.introduced_at
        )
        session.delete(new if keep_old else old)
    session.flush()
    session.execute(update(ReviewState).where(ReviewState.card_id == old_id).values(card_id=new_id))  # type: ignore[arg-type]
    session.execute(update(ReviewLog).where(ReviewLog.card_id == old_id).values(card_id=new_id))  # type: ignore[arg-type]
