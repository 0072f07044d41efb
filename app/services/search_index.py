"""The full-text index behind search: SQLite FTS5 or a PostgreSQL tsvector with a GIN
index, kept in step by the importer inside its transaction (``refresh``).

Both engines see the same pre-tokenised text: lowercase words as they are, and every run
of Chinese (CJK) characters as its overlapping bigrams ("梯度消失" -> "梯度 度消 消失"),
the usual way to index Chinese without a dictionary. A query goes through the same
tokeniser; every term must match, each as a prefix ("norm" finds "normalization"), and
hits rank by BM25 (SQLite) or ts_rank (PostgreSQL) with the title weighted above the body.

The schema is in ``app/models/search_index.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session, col, select

from app.models.card import CardTranslation
from app.models.search_index import TABLE

MAX_TERMS = 8
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"\w+")
_JOINS = (
    "JOIN card AS c ON c.id = s.card_id "
    "JOIN card_translation AS t ON t.card_id = s.card_id AND t.lang = s.lang "
)


def _bigrams(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) == 1:
        return f" {run} "
    return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "


def index_text(value: str) -> str:
    """The text as both engines index it: lowercase, CJK runs as bigrams."""
    return _CJK.sub(_bigrams, value.lower())


def query_terms(query: str) -> list[str]:
    """The terms of a search box query, tokenised as the index is (at most MAX_TERMS)."""
    return _WORD.findall(index_text(query))[:MAX_TERMS]


# --- keeping it in step --------------------------------------------------------------


def refresh(session: Session, card_ids: Sequence[str]) -> None:
    """Re-index these cards' translations as the session sees them now (rows of cards
    without translations any more are removed). Runs in the caller's transaction."""
    remove(session, card_ids)
    for chunk in _chunks(list(card_ids)):
        rows = session.execute(
            select(
                CardTranslation.card_id,
                CardTranslation.lang,
                CardTranslation.title,
                CardTranslation.search_text,
            ).where(col(CardTranslation.card_id).in_(chunk))
        ).all()
        add(session, [tuple(row) for row in rows])


def remove(session: Session, card_ids: Sequence[str]) -> None:
    for chunk in _chunks(list(card_ids)):
        params = {f"id{i}": card_id for i, card_id in enumerate(chunk)}
        in_list = ", ".join(f":id{i}" for i in range(len(chunk)))
        session.execute(text(f"DELETE FROM {TABLE} WHERE card_id IN ({in_list})"), params)


def add(session: Session, rows: Sequence[tuple[str, str, str, str]]) -> None:
    """Index (card id, lang, title, plain text) rows whose old rows are already gone."""
    if not rows:
        return
    values = [
        {"card_id": c, "lang": lang, "title": index_text(t), "body": index_text(b or "")}
        for c, lang, t, b in rows
    ]
    if session.get_bind().dialect.name == "sqlite":
        insert = (
            f"INSERT INTO {TABLE} (card_id, lang, title, body) "
            "VALUES (:card_id, :lang, :title, :body)"
        )
    else:
        insert = (
            f"INSERT INTO {TABLE} (card_id, lang, doc) VALUES (:card_id, :lang, "
            "setweight(to_tsvector('simple', :title), 'A') || "
            "setweight(to_tsvector('simple', :body), 'D'))"
        )
    session.execute(text(insert), values)


# What an import leaves behind on PostgreSQL: new index entries wait in the GIN indexes'
# pending lists (scanned in full by every query: 10 ms after a 10,000-card import) and
# the planner's statistics are stale (it then joins the top rows to `card` with a nested
# loop over all of it: 40 ms instead of 2) until autovacuum comes by, a minute or more.
BULK_CHANGE = 500


def after_import(session: Session, changed: int) -> None:
    """On PostgreSQL, after an import that changed ``changed`` cards: move the pending
    index entries into the indexes, and refresh the statistics of the tables a search
    joins when at least BULK_CHANGE cards changed. Both run in the caller's transaction
    (ANALYZE counts its own rows) and block no reader or writer."""
    if not changed or session.get_bind().dialect.name != "postgresql":
        return
    # Only the index's owner may clean it (ANALYZE merely warns): a database user that
    # does not own the schema leaves the lists to autovacuum rather than fail the import.
    for index in (f"{TABLE}_doc", f"{TABLE}_title"):
        session.execute(
            text(
                "SELECT gin_clean_pending_list(c.oid) FROM pg_class AS c "
                "WHERE c.oid = to_regclass(:i) AND pg_has_role(c.relowner, 'USAGE')"
            ),
            {"i": index},
        )
    if changed >= BULK_CHANGE:
        session.execute(text(f"ANALYZE card, card_translation, {TABLE}"))


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# --- querying ------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    card_id: str
    lang: str
    rank: float  # lower is better, within a tier
    title: str
    text: str  # the translation's plain text, for a snippet
    deck: str
    tier: int = 0  # 0: the title holds every term; 1: the text does


# Ranking reads every match's statistics (BM25 in FTS5: about 3 us of CPU per match), so
# a query that matches most of a large deck ranks a bounded share of it: its title
# matches, and the first MAX_RANKED matches in index order. Such a query says little
# about what the learner wants; one that matches fewer cards is ranked in full.
MAX_RANKED = 1000


def matches(session: Session, terms: list[str], limit: int) -> list[Match]:
    """Translations of active cards that hold every term (as a prefix), best first.

    The index ranks and cuts first, in subqueries; only the top rows are joined to their
    text, so a query matching most of the deck reads no more text than one matching few."""
    if not terms:
        return []
    if session.get_bind().dialect.name == "sqlite":
        expression = " ".join('"' + t.replace('"', '""') + '"*' for t in terms)
        params = {"expression": expression, "title": f"{{title}} : ({expression})"}
        # `rank` is FTS5's ranking column (bm25 with the weights set by ``create``).
        title_hits = (
            f"SELECT card_id, lang, rank FROM {TABLE} WHERE {TABLE} MATCH :title "
            "ORDER BY rank LIMIT :limit"
        )
        cut = (
            f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH :expression "
            f"ORDER BY rowid LIMIT 1 OFFSET {MAX_RANKED}"
        )
        body_hits = (
            f"SELECT card_id, lang, rank FROM {TABLE} WHERE {TABLE} MATCH :expression "
            f"AND rowid < coalesce(({cut}), 9223372036854775807) ORDER BY rank LIMIT :limit"
        )
    else:
        # Terms are \w+ tokens, so they need no quoting inside to_tsquery. Each tier
        # takes at most MAX_RANKED matches from its GIN index before ts_rank reads them
        # (ranking detoasts every tsvector it ranks); the title tier reads the `title`
        # column and its own index, so it never touches the bodies.
        params = {"expression": " & ".join(f"{t}:*" for t in terms)}
        title_hits, body_hits = (
            f"SELECT card_id, lang, -ts_rank({column}, q, 1) AS rank FROM "
            f"(SELECT card_id, lang, {column} FROM {TABLE}, "
            f"to_tsquery('simple', :expression) AS q0 WHERE {column} @@ q0 "
            f"LIMIT {MAX_RANKED}) AS m, to_tsquery('simple', :expression) AS q "
            "ORDER BY rank LIMIT :limit"
            for column in ("title", "doc")
        )
    found: dict[tuple[str, str], Match] = {}
    for tier, ranked in enumerate((title_hits, body_hits)):
        rows = session.execute(
            text(
                "SELECT s.card_id, s.lang, s.rank, t.title, t.search_text, c.deck "
                f"FROM ({ranked}) AS s {_JOINS} WHERE c.status = 'active' ORDER BY s.rank"
            ),
            {**params, "limit": limit},
        ).all()
        for card_id, lang, rank, title, search_text, deck in rows:
            key = (card_id, lang)
            if key not in found:  # title matches come first, then the rest by rank
                found[key] = Match(
                    card_id, lang, tier + float(rank), title, search_text or "", deck
                )
    return sorted(found.values(), key=lambda m: (m.rank >= 1, m.rank))[:limit]
