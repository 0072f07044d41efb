from __future__ import annotations

from conftest import card_text

from app.content.tree import load_deck
from app.services.authoring.serialize import slugify
from app.services.importer import new_card_file


def test_slugify():
    assert (
        slugify("Why do gradients vanish in deep nets?") == "why-do-gradients-vanish-in-deep-nets"
    )
    assert slugify("Ünïcode — résumé") == "unicode-resume"
    assert slugify("梯度") == "card"
    long = slugify("word " * 40)
    assert len(long) <= 64 and not long.endswith("-")


def test_new_card_file_writes_a_skeleton_with_a_fresh_id(content_dir, write):
    write("cards/training/why-does-adam-work.md", card_text("why-does-adam-work"))
    path = new_card_file(
        content_dir, "Why does Adam work?", "training", difficulty="hard", tags=["optim"]
    )
    assert path == content_dir / "cards/training/why-does-adam-work-2.md"
    again = new_card_file(
        content_dir, "Why does Adam work?", "training", taken={"why-does-adam-work-3"}
    )
    assert again.name == "why-does-adam-work-4.md"
    text = path.read_text()
    assert "title: Why does Adam work?" in text and "difficulty: hard" in text
    # The skeleton is well-formed; only its empty sections are flagged until written.
    problems = [p for p in load_deck(content_dir).problems if p.path == path]
    assert {p.message for p in problems} == {
        'empty section "## Question"',
        'empty section "## Answer"',
        'empty section "## Key points"',
    }
