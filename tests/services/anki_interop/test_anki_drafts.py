"""An Anki package built with genanki becomes drafts: notes, tags and media kept."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import genanki
import pytest

from app.content.tree import load_deck
from app.services.anki.drafts import copy_media, note_to_draft
from app.services.anki.markdown import html_to_markdown
from app.services.anki.package import AnkiNote, read_apkg
from app.services.authoring.bulk import UploadRefused
from app.services.authoring.serialize import card_to_markdown

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

BASIC = genanki.Model(
    1607392319,
    "Basic",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}],
)


def build_apkg(tmp_path: Path) -> bytes:
    deck = genanki.Deck(2059400110, "Deep Learning::Optimizers")
    deck.add_note(
        genanki.Note(
            model=BASIC,
            fields=[
                "What does <b>momentum</b> add to SGD?",
                'A velocity: \\(v_t = \\beta v_{t-1} + g_t\\)<br><img src="velocity.png">',
            ],
            tags=["optimization", "SGD::momentum"],
            guid="note-one",
        )
    )
    deck.add_note(
        genanki.Note(
            model=BASIC,
            fields=[
                "Why <i>RMSprop</i>?<script>alert('x')</script>",
                '<div>Divides by a running RMS</div><div onclick="evil()">of gradients.</div>',
            ],
            tags=["optimization"],
            guid="note-two",
        )
    )
    image = tmp_path / "velocity.png"
    image.write_bytes(PNG)
    package = genanki.Package(deck)
    package.media_files = [str(image)]
    out = tmp_path / "deck.apkg"
    package.write_to_file(out)
    return out.read_bytes()


def test_reads_notes_tags_deck_and_media(tmp_path: Path) -> None:
    package = read_apkg(build_apkg(tmp_path))
    assert [n.guid for n in package.notes] == ["note-one", "note-two"]
    first = package.notes[0]
    assert first.deck == "Deep Learning::Optimizers"
    assert first.tags == ["optimization", "SGD::momentum"]
    assert [name for name, _ in first.fields] == ["Front", "Back"]
    assert package.media == {"velocity.png": PNG}


def test_notes_become_valid_drafts(tmp_path: Path, content_dir: Path) -> None:
    package = read_apkg(build_apkg(tmp_path))
    placed = copy_media(content_dir, package.media)
    assert placed == {"velocity.png": "media/anki/velocity.png"}
    assert (content_dir / "media" / "anki" / "velocity.png").read_bytes() == PNG

    drafts = [
        note_to_draft(note, f"anki-{i}", media_paths=placed) for i, note in enumerate(package.notes)
    ]
    one, two = (d.fields for d in drafts)
    assert one.deck == "deep-learning/optimizers"
    assert one.title == "What does momentum add to SGD?"
    assert one.tags == ["optimization", "sgd-momentum"]
    assert one.sections["Question"] == "What does **momentum** add to SGD?"
    assert one.sections["Answer"] == (
        "A velocity: $v_t = \\beta v_{t-1} + g_t$\\\n"
        "![velocity.png](../../../media/anki/velocity.png)"
    )
    assert drafts[0].media == ["media/anki/velocity.png"]
    # Sanitised: the script and the handler are gone.
    assert two.sections["Question"] == "Why *RMSprop*?"
    assert two.sections["Answer"] == "Divides by a running RMS\\\nof gradients."
    assert "alert" not in card_to_markdown(two) and "onclick" not in card_to_markdown(two)

    # Written out, they are cards the loader accepts, image included.
    for draft in drafts:
        path = content_dir / "cards" / draft.fields.deck / f"{draft.fields.id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(card_to_markdown(draft.fields))
    assert load_deck(content_dir).problems == []


def test_media_name_clash_keeps_the_existing_file(tmp_path: Path, content_dir: Path) -> None:
    existing = content_dir / "media" / "anki" / "velocity.png"
    existing.parent.mkdir(parents=True)
    existing.write_bytes(b"other image")
    placed = copy_media(content_dir, {"velocity.png": PNG, "notes.txt": b"x"})
    assert placed["velocity.png"].startswith("media/anki/velocity-")
    assert existing.read_bytes() == b"other image"
    assert "notes.txt" not in placed  # only images are copied


def test_cloze_note() -> None:
    note = AnkiNote(
        guid="c",
        deck="Default",
        fields=[("Text", "Adam keeps {{c1::two moment estimates::how many?}}."), ("Extra", "")],
        tags=[],
        cloze=True,
    )
    draft = note_to_draft(note, "adam")
    assert draft.fields.sections["Question"] == "Adam keeps \\[how many?\\]."
    assert draft.fields.sections["Answer"] == "Adam keeps **two moment estimates**."


def test_text_is_escaped_but_math_is_not() -> None:
    text, _ = html_to_markdown("costs $5 * 2 &lt;b&gt; [$]x^2[/$] and \\[\\sum_i x_i\\]")
    assert text == "costs \\$5 \\* 2 \\<b> $x^2$ and $$\\sum_i x_i$$"


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"readme.txt": b"hi"}, "no collection.anki2"),
        ({"collection.anki21b": b"zstd"}, "Support older Anki versions"),
        ({"collection.anki2": b"not sqlite"}, "cannot be"),
    ],
)
def test_unusable_packages_are_refused(members: dict[str, bytes], message: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(UploadRefused, match=message):
        read_apkg(buffer.getvalue())


def test_not_a_zip() -> None:
    with pytest.raises(UploadRefused, match="zip"):
        read_apkg(b"SQLite format 3\x00")
