"""An .apkg imported as drafts: nothing dropped without a word, and a second import of
the same package updates (or leaves unchanged) instead of duplicating."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from app.models.card import Card
from app.services.anki.importer import import_package
from app.services.authoring import editor
from tests.anki_packages import BASIC, REVERSED, build, interview_deck, note


def drafts(session: Session) -> dict[str, Card]:
    return {c.id: c for c in session.exec(select(Card).where(Card.status == "draft")).all()}


def test_every_card_and_field_is_accounted_for(session: Session, content_dir: Path) -> None:
    summary = import_package(session, content_dir, interview_deck(), author=None)
    assert summary.notes == 4
    # 4 notes, one of them with its reversed card: 5 drafts.
    assert len(summary.created) == 5 and summary.updated == summary.unchanged == []
    assert summary.reversed_cards == 1 and summary.type_in_notes == 1
    assert summary.note_types == {
        "Basic": 1,
        "Basic (and reversed card)": 1,
        "Basic (type in the answer)": 1,
        "Basic with source": 1,
    }
    assert summary.left_out == [
        'field "Source" of note type "Basic with source": not imported (1 note)'
    ]
    cards = drafts(session)
    sources = {c.sources[0]: c for c in cards.values()}
    assert set(sources) == {
        "anki:guid-momentum",
        "anki:guid-adam",
        "anki#1:guid-adam",
        "anki:guid-lr",
        "anki:guid-code",
    }
    reverse = editor.load_for_editor(session, content_dir, sources["anki#1:guid-adam"].id).fields
    assert reverse.sections["Question"] == "Momentum plus *RMSprop* scaling"
    assert reverse.sections["Answer"] == "Adam"
    type_in = editor.load_for_editor(session, content_dir, sources["anki:guid-lr"].id).fields
    assert "type-in" in type_in.tags
    assert "type the answer" in " ".join(summary.remarks[sources["anki:guid-lr"].id])
    momentum = editor.load_for_editor(session, content_dir, sources["anki:guid-momentum"].id)
    assert momentum.fields.sections["Question"] == "What does **momentum** add to SGD?"


def test_a_second_import_is_idempotent(session: Session, content_dir: Path) -> None:
    first = import_package(session, content_dir, interview_deck(), author=None)
    again = import_package(session, content_dir, interview_deck(), author=None)
    assert again.created == [] and again.updated == []
    assert sorted(again.unchanged) == sorted(first.created)
    assert len(drafts(session)) == 5
    assert not any(card_id.endswith("-2") for card_id in drafts(session))


def test_a_changed_note_updates_its_draft_but_admin_edits_win(
    session: Session, content_dir: Path
) -> None:
    old = build(
        [
            note(BASIC, "What is SGD?", "Plain steps.", "g-sgd"),
            note(REVERSED, "Adam", "Both", "g-adam"),
        ]
    )
    new = build(
        [
            note(BASIC, "What is SGD?", "Plain <b>steps</b>.", "g-sgd"),
            note(REVERSED, "Adam", "Both!", "g-adam"),
        ]
    )
    first = import_package(session, content_dir, old, author=None)
    sgd = first.created[0]
    adam_front = next(c for c in first.created if drafts(session)[c].sources == ["anki:g-adam"])
    # The admin edits the Adam draft; the package's new Adam text must not overwrite it.
    loaded = editor.load_for_editor(session, content_dir, adam_front)
    loaded.fields.sections["Answer"] = "Momentum and RMSprop, written by the admin"
    editor.save_draft(
        session, content_dir, loaded.fields, {}, base_version=loaded.version, author=None
    )

    second = import_package(session, content_dir, new, author=None)
    assert second.created == []
    assert sgd in second.updated
    assert adam_front in second.kept
    assert (
        editor.load_for_editor(session, content_dir, sgd).fields.sections["Answer"]
        == "Plain **steps**."
    )
    kept = editor.load_for_editor(session, content_dir, adam_front).fields.sections["Answer"]
    assert kept == "Momentum and RMSprop, written by the admin"
    assert len(drafts(session)) == 3


def test_cloze_cards_beyond_the_first_are_reported(session: Session, content_dir: Path) -> None:
    import genanki

    apkg = build(
        [
            genanki.Note(
                model=genanki.CLOZE_MODEL,
                fields=["Adam keeps {{c1::two}} moments and a {{c2::bias correction}}.", ""],
                guid="g-cloze",
            )
        ]
    )
    summary = import_package(session, content_dir, apkg, author=None)
    assert len(summary.created) == 1
    assert "1 cloze card after the first of their note: one draft per note shows every gap" in (
        summary.left_out
    )
    fields = editor.load_for_editor(session, content_dir, summary.created[0]).fields
    assert fields.sections["Question"] == "Adam keeps \\[…\\] moments and a \\[…\\]."
    assert fields.sections["Answer"] == "Adam keeps **two** moments and a **bias correction**."


def test_imported_drafts_render_cleanly(session: Session, content_dir: Path) -> None:
    """No literal ** from spaced bold, no entity left in math, every math span passes the
    check the editor applies, every fence closes where it should."""
    from app.content.math_check import section_math_problems
    from app.content.render import render_card

    summary = import_package(session, content_dir, interview_deck(), author=None)
    rendered_math = 0
    for card_id in summary.created:
        fields = editor.load_for_editor(session, content_dir, card_id).fields
        for text in fields.sections.values():
            assert section_math_problems(text) == [], (card_id, text)
        html = render_card("en", fields.title, fields.sections)
        visible = html.question_html + html.answer_html
        assert "**" not in visible and "&amp;nbsp;" not in visible and "&amp;lt;" not in visible
        rendered_math += visible.count('class="math ')
        if card_id == "print-a-fence":
            assert "```" in html.answer_html  # inside the code, not closing it
            assert html.answer_html.count("<pre") == 1
    assert "print-a-fence" in summary.created
    assert rendered_math == 2  # \(v_t ...\) and \(a < b\); the empty \(\) is gone
