"""The repository's real cards for page and browser tests.

The content tree is being written while the app is: a card may link to one not written
yet. ``usable_content`` copies the tree and leaves out the cards the loader refuses
(and, in turn, the cards that linked to those), so the tests run on every real card
that imports today.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlmodel import Session

from app.content.tree import load_deck
from app.services.importer import ImportReport, import_tree

REPO_CONTENT = Path(__file__).resolve().parents[1] / "content"


def usable_content(target: Path, source: Path = REPO_CONTENT) -> Path:
    """A copy of `source` under `target` that loads without problems."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    for _attempt in range(20):
        problems = load_deck(target).problems
        if not problems:
            return target
        for problem in problems:
            path = Path(problem.path)
            if not path.is_absolute():
                path = target / path
            stem = path.name.split(".")[0]
            for sibling in path.parent.glob(f"{stem}*.md"):
                sibling.unlink(missing_ok=True)
    raise AssertionError(f"content under {target} still has problems: {problems[:3]}")


def import_real_content(session: Session, tmp: Path) -> ImportReport:
    report = import_tree(session, usable_content(tmp / "content"))
    session.commit()
    return report
