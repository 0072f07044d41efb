"""A follow-up asks its own wording: no linked card title appended, math kept as math."""

from __future__ import annotations

from app.services.interview.follow_ups import find_html, wording_html, wording_text

ITEM = {
    "text": "Why a variance of 2/n_{in}? How should weights be initialized?",
    "html": (
        '<p>Why a variance of <span class="math math-inline">2/n_{in}</span>? '
        '<a class="card-link" href="/cards/init">How should weights be initialized?</a></p>'
    ),
    "card_id": "init",
}


def test_the_linked_title_is_not_part_of_the_question() -> None:
    assert wording_html(ITEM) == 'Why a variance of <span class="math math-inline">2/n_{in}</span>?'
    assert wording_text(ITEM) == "Why a variance of 2/n_{in}?"


def test_old_and_new_stored_prompts_find_their_html() -> None:
    assert find_html([ITEM], "Why a variance of 2/n_{in}?") == wording_html(ITEM)
    assert find_html([ITEM], ITEM["text"]) == wording_html(ITEM)  # a row from before
    assert find_html([ITEM], "something else") is None


def test_an_unlinked_follow_up_keeps_its_text() -> None:
    item = {"text": "And on a GPU?", "html": "<p>And on a GPU?</p>", "card_id": None}
    assert wording_html(item) == "And on a GPU?" and wording_text(item) == "And on a GPU?"
