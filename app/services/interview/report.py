"""The report of a finished mock interview, and its Markdown export."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from app.models.card import Card
from app.models.interview import MockInterview
from app.services.interview import service
from app.services.interview.service import RATING_MAPPING

RATING_NAMES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}


@dataclass(frozen=True)
class MissedPoint:
    card_id: str | None
    card_title: str
    text: str
    html: str
    demo_name: str | None


@dataclass(frozen=True)
class QuestionLine:
    position: int
    kind: str
    card_id: str | None
    title: str  # the card's title, or the follow-up's wording
    deck: str
    covered: int
    total: int
    score: float
    seconds: int  # time to answer
    budget_s: int
    late: bool
    skipped: bool
    rating: int | None
    scheduled: bool  # recorded in the review log (kind mock)
    title_html: str = ""  # a follow-up's wording as HTML (its math rendered by the page)


@dataclass(frozen=True)
class DeckScore:
    deck: str
    questions: int
    score: float


@dataclass(frozen=True)
class TrendPoint:
    interview_id: int
    finished_at: datetime
    score: float


@dataclass
class Report:
    interview: MockInterview
    score: float
    lines: list[QuestionLine]
    decks: list[DeckScore]
    missed: list[MissedPoint]
    trend: list[TrendPoint]
    mapping: tuple[tuple[float, int], ...] = field(default=RATING_MAPPING)


def build(session: Session, user_id: int, interview_id: int) -> Report:
    """The report: overall and per-deck score, time per question against its budget,
    the key points missed (with their cards and demos), and the trend of the learner's
    finished interviews up to this one."""
    interview = service.get_interview(session, user_id, interview_id)
    if interview.status != "finished":
        raise service.StaleStep("the interview is not finished yet")
    lines: list[QuestionLine] = []
    missed: list[MissedPoint] = []
    per_deck: dict[str, list[float]] = defaultdict(list)
    for q in service.questions(session, interview_id):
        if q.confirmed_at is None:
            continue
        points, _ = service.key_points(session, q.card_id, interview.lang)
        text = (
            service.text_in(service.translations(session, q.card_id), interview.lang)
            if q.card_id
            else None
        )
        card = session.get(Card, q.card_id) if q.card_id else None
        demo = (
            card.demo_path.rsplit("/", 1)[-1].removesuffix(".py")
            if card and card.demo_path
            else None
        )
        title = q.prompt if q.kind == "follow_up" else (text.title if text else q.card_id or "")
        ticks = q.ticks or [False]
        for i, point in enumerate(points):
            if i < len(ticks) and not ticks[i]:
                missed.append(
                    MissedPoint(
                        q.card_id,
                        text.title if text else "",
                        str(point.get("text", "")),
                        str(point.get("html", "")),
                        demo,
                    )
                )
        answered = q.answered_at or q.confirmed_at
        lines.append(
            QuestionLine(
                position=q.position,
                kind=q.kind,
                card_id=q.card_id,
                title=title,
                deck=q.deck,
                covered=sum(bool(t) for t in ticks),
                total=len(ticks),
                score=q.score or 0.0,
                seconds=int((answered - q.started_at).total_seconds()),
                budget_s=q.budget_s,
                late=q.late,
                skipped=q.skipped,
                rating=q.rating,
                scheduled=q.review_log_id is not None,
                title_html=(
                    service.prompt_html(session, q, interview.lang) if q.kind == "follow_up" else ""
                ),
            )
        )
        per_deck[q.deck].append(q.score or 0.0)
    decks = [DeckScore(d, len(s), sum(s) / len(s)) for d, s in sorted(per_deck.items())]
    trend = [
        TrendPoint(row.id or 0, row.finished_at, row.score or 0.0)
        for row in session.execute(
            select(MockInterview)
            .where(
                MockInterview.user_id == user_id,  # type: ignore[arg-type]
                MockInterview.status == "finished",  # type: ignore[arg-type]
                MockInterview.finished_at <= interview.finished_at,  # type: ignore[operator, arg-type]
            )
            .order_by(MockInterview.finished_at, MockInterview.id)  # type: ignore[arg-type]
        ).scalars()
        if row.finished_at is not None
    ][-20:]
    return Report(interview, interview.score or 0.0, lines, decks, missed, trend)


def pct(value: float) -> str:
    return f"{round(value * 100)}%"


def to_markdown(report: Report, base_url: str = "") -> str:
    """The report as Markdown (links relative to `base_url`)."""
    iv = report.interview
    when = iv.finished_at.strftime("%Y-%m-%d %H:%M UTC") if iv.finished_at else ""
    out = [f"# Mock interview report ({when})", "", f"**Overall score: {pct(report.score)}**", ""]
    out += ["## Score per deck", "", "| deck | questions | score |", "|:--|--:|--:|"]
    out += [f"| {d.deck} | {d.questions} | {pct(d.score)} |" for d in report.decks]
    out += [
        "",
        "## Questions",
        "",
        "| # | question | deck | key points | time / budget | rating |",
        "|--:|:--|:--|--:|--:|:--|",
    ]
    for n, line in enumerate(report.lines, 1):
        flags = " (skipped)" if line.skipped else (" (late)" if line.late else "")
        rating = RATING_NAMES.get(line.rating or 0, "not scheduled")
        kind = "follow-up: " if line.kind == "follow_up" else ""
        title = (kind + line.title).replace("|", "\\|")
        out.append(
            f"| {n} | {title} | {line.deck} | {line.covered}/{line.total} | "
            f"{line.seconds} s / {line.budget_s} s{flags} | {rating} |"
        )
    out += ["", "## Key points missed", ""]
    if not report.missed:
        out.append("None.")
    for m in report.missed:
        links = [f"[card]({base_url}/cards/{m.card_id})"] if m.card_id else []
        if m.demo_name:
            links.append(f"[demo]({base_url}/demos/{m.demo_name})")
        out.append(f"- {m.text} ({m.card_title}; {', '.join(links)})")
    out += ["", "## Trend", "", "| finished | score |", "|:--|--:|"]
    out += [f"| {t.finished_at:%Y-%m-%d %H:%M} | {pct(t.score)} |" for t in report.trend]
    out += ["", "## How answers feed the schedule", ""]
    out += [mapping_line(lowest, rating) for lowest, rating in report.mapping]
    out.append("- A skip is Again; a complete answer after the time is up is Good.")
    return "\n".join(out) + "\n"


def mapping_line(lowest: float, rating: int) -> str:
    if lowest >= 1.0:
        return f"- all key points: {RATING_NAMES[rating]}"
    if lowest <= 0.0:
        return f"- fewer: {RATING_NAMES[rating]}"
    return f"- at least {pct(lowest)} of the key points: {RATING_NAMES[rating]}"


def mapping_share(lowest: float) -> str:
    return pct(lowest)


def to_dict(report: Report) -> dict[str, object]:
    """The report as JSON-ready data."""
    from dataclasses import asdict

    iv = report.interview
    return {
        "id": iv.id,
        "finished_at": iv.finished_at.isoformat() if iv.finished_at else None,
        "score": report.score,
        "questions": [asdict(line) for line in report.lines],
        "decks": [asdict(d) for d in report.decks],
        "missed": [asdict(m) for m in report.missed],
        "trend": [
            {"id": t.interview_id, "finished_at": t.finished_at.isoformat(), "score": t.score}
            for t in report.trend
        ],
        "rating_mapping": [{"lowest_share": lo, "rating": r} for lo, r in report.mapping],
    }
