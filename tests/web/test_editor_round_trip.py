"""Saving a card in the editor without touching it changes nothing: the editor's own
form, as a browser would submit it, for every real card under content/."""

from __future__ import annotations

import difflib
import hashlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.content.tree import card_files
from app.models import Card, CardChange
from app.services.importer import import_tree
from tests.real_content import usable_content


class FormFields(HTMLParser):
    """The (name, value) pairs a browser submits for the form with id `form_id`:
    unchecked or disabled boxes left out, the selected option, textareas without the
    one newline HTML drops after the opening tag."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.pairs: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None
        self._options: list[tuple[str | None, bool, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and "name" in a and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button"):
                self.pairs.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            value = dict(attrs).get("value")  # no value attribute: the option's text
            self._options.append((value, "selected" in a, []))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)
        elif self._select is not None and self._options:
            self._options[-1][2].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.pairs.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            values = [
                (v if v is not None else "".join(t).strip(), on) for v, on, t in self._options
            ]
            chosen = [v for v, on in values if on] or [values[0][0]]
            self.pairs.append((self._select, chosen[0]))
            self._select = None


def editor_form(html: str) -> dict[str, list[str]]:
    parser = FormFields("card-form")
    parser.feed(html)
    assert parser.pairs, "no editor form on the page"
    form: dict[str, list[str]] = {}
    for name, value in parser.pairs:
        form.setdefault(name, []).append(value)
    return form


def digest_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def diff_of(old: str, path: Path) -> str:
    new = path.read_text() if path.exists() else ""
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True)))


def cards_to_save(root: Path) -> list[str]:
    """Every front-matter shape the deck uses, without saving all of its cards (each save
    checks a copy of the whole tree): the first card of every folder, and every card with
    an exercise, former ids or demo parameters."""
    chosen: dict[str, Path] = {}
    for path in card_files(root):
        card_id, _, rest = path.name.partition(".")
        if rest != "md":
            continue
        head = path.read_text(encoding="utf-8").split("\n---", 1)[0]
        special = any(key in head for key in ("\nexercise:", "\naliases:", "\n  params:"))
        if special or path.parent not in set(chosen.values()):
            chosen[card_id] = path.parent
    return sorted(chosen)


@pytest.fixture
def real_tree(content_dir: Path, engine) -> Path:  # type: ignore[no-untyped-def]
    usable_content(content_dir)
    with Session(engine) as session:
        import_tree(session, content_dir)
        session.commit()
    return content_dir


@pytest.mark.once  # the card files' round trip; the editor's writes run on PostgreSQL elsewhere
@pytest.mark.timeout(900)
def test_saving_real_cards_unchanged_changes_nothing(
    admin_client: TestClient, real_tree: Path, engine
) -> None:
    before = digest_tree(real_tree)
    card_ids = sorted({p.name.partition(".")[0] for p in card_files(real_tree)})
    assert len(card_ids) > 50
    for card_id in cards_to_save(real_tree):
        before_text = {
            p.relative_to(real_tree).as_posix(): p.read_text() for p in card_files(real_tree)
        }
        page = admin_client.get(f"/admin/cards/{card_id}")
        assert page.status_code == 200, card_id
        form = {**editor_form(page.text), "action": ["publish"]}
        saved = admin_client.post("/admin/cards", data=form, follow_redirects=False)
        problems = saved.text[saved.text.find('id="problems"') :][:1500]
        assert saved.status_code == 303, f"{card_id}: {saved.status_code} {problems}"
        now = digest_tree(real_tree)
        changed = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
        assert changed == [], f"saving {card_id} unchanged touched {changed}:\n" + diff_of(
            before_text.get(changed[0], ""), real_tree / changed[0]
        )
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(CardChange)).one() == 0
        assert not import_tree(session, real_tree).wrote_anything
        assert session.exec(select(func.count()).select_from(Card)).one() == len(card_ids)


HAND_WRITTEN = """---
id: hand-written
title: A hand-written card
deck: training/basics
difficulty: medium
demo: none
source: ['Goodfellow et al., Deep Learning, ch. 8', notes.txt]
---
## Question
Q?

## Answer
A.
"""


def test_a_card_outside_its_deck_folder_with_free_text_sources_keeps_both(
    admin_client: TestClient, content_dir: Path, engine
) -> None:
    path = content_dir / "cards" / "basics" / "hand-written.md"
    path.parent.mkdir(parents=True)
    path.write_text(HAND_WRITTEN)
    with Session(engine) as session:
        import_tree(session, content_dir)
        session.commit()
    form = {**editor_form(admin_client.get("/admin/cards/hand-written").text)}
    assert form["source"] == ["Goodfellow et al., Deep Learning, ch. 8\nnotes.txt"]
    saved = admin_client.post(
        "/admin/cards", data={**form, "action": "publish"}, follow_redirects=False
    )
    assert saved.status_code == 303
    assert path.read_text() == HAND_WRITTEN
    # An edit rewrites the file in place: same folder, the sources whole.
    form = editor_form(admin_client.get("/admin/cards/hand-written").text)
    form["title"] = ["A retitled card"]
    saved = admin_client.post(
        "/admin/cards", data={**form, "action": "publish"}, follow_redirects=False
    )
    assert saved.status_code == 303
    assert sorted(p.relative_to(content_dir).as_posix() for p in card_files(content_dir)) == [
        "cards/basics/hand-written.md"
    ]
    text = path.read_text()
    assert "title: A retitled card\n" in text
    assert "source: ['Goodfellow et al., Deep Learning, ch. 8', notes.txt]\n" in text
    with Session(engine) as session:
        changes = session.exec(select(CardChange.action)).all()
    assert changes == ["baseline", "edit"]
