"""The full-text search index's schema: an SQLite FTS5 virtual table, or a PostgreSQL
table of tsvectors with a GIN index (``app/services/search_index.py`` fills and queries
it). Not on the models' metadata (a virtual table has no place there): the initial
migration calls ``create`` and ``drop`` (``app/migrate.py`` writes those calls when it
regenerates it), and Alembic's comparisons skip the tables ``is_search_table`` names."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

TABLE = "card_search"


def is_search_table(name: str | None) -> bool:
    return bool(name) and str(name).startswith(TABLE)


def create(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(
                f"CREATE VIRTUAL TABLE {TABLE} USING fts5(card_id UNINDEXED, lang UNINDEXED, "
                "title, body, tokenize = 'unicode61 remove_diacritics 2')"
            )
        )
        # The ranking the `rank` column gives: BM25, a title hit worth ten in the body.
        conn.execute(
            text(f"INSERT INTO {TABLE} ({TABLE}, rank) VALUES ('rank', 'bm25(0, 0, 10.0, 1.0)')")
        )
        return
    # `doc`: the title (weight A) and the body (weight D), for matching and ranking;
    # `title`: its title part alone (a generated column), with a GIN index of its own so
    # the title tier reads only title hits (a weight-restricted query on `doc` cannot
    # use the index for the weight and rechecks every row that holds the words).
    conn.execute(
        text(
            f"CREATE TABLE {TABLE} (card_id VARCHAR NOT NULL, lang VARCHAR NOT NULL, "
            "doc TSVECTOR NOT NULL, "
            "title TSVECTOR GENERATED ALWAYS AS (ts_filter(doc, '{a}')) STORED, "
            "PRIMARY KEY (card_id, lang))"
        )
    )
    conn.execute(text(f"CREATE INDEX {TABLE}_doc ON {TABLE} USING GIN (doc)"))
    conn.execute(text(f"CREATE INDEX {TABLE}_title ON {TABLE} USING GIN (title)"))


def drop(conn: Connection) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
