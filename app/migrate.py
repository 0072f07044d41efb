"""Alembic, driven from Python: `backprop db upgrade` and the tests use this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.db import make_engine
from app.models import search_index
from app.settings import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d-%%(slug)s")
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def pending_model_changes(database_url: str) -> list:
    """What autogenerate would add: empty when models and migrations agree."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            return [
                diff
                for diff in compare_metadata(context, SQLModel.metadata)
                if not _about_search_index(diff)
            ]
    finally:
        engine.dispose()


def regenerate_initial() -> None:
    """Development only, before the first release: rewrite the one initial migration
    from the models, so parallel work on models does not fight over a revision chain."""
    import tempfile

    for old in (MIGRATIONS_DIR / "versions").glob("*initial*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/empty.db"
        command.revision(alembic_config(url), message="initial", autogenerate=True, rev_id="0001")
    _add_search_index(next((MIGRATIONS_DIR / "versions").glob("*initial*.py")))


def _about_search_index(diff: object) -> bool:
    """Autogenerate sees the search index's tables (not on the metadata) as removed."""
    items = diff if isinstance(diff, list) else [diff]
    return all(
        isinstance(item, tuple)
        and any(search_index.is_search_table(getattr(part, "name", None)) for part in item)
        for item in items
    )


def _add_search_index(path: Path) -> None:
    """The full-text index is no table of the metadata: call its DDL in the migration."""
    source = path.read_text()
    end = "    # ### end Alembic commands ###\n"
    source = source.replace(
        "import app.models.base\n",
        "import app.models.base\nfrom app.models import search_index\n",
        1,
    )
    source = source.replace(end, end + "    search_index.create(op.get_bind())\n", 1)
    source = source.replace(
        "def downgrade() -> None:\n",
        "def downgrade() -> None:\n    search_index.drop(op.get_bind())\n",
        1,
    )
    path.write_text(source)
