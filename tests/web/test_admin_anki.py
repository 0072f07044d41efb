"""The admin's Anki import page: the summary, idempotent re-upload, and a clear 400
sentence (never a 500) for each malformed package."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.anki_packages import (
    BASIC,
    build,
    interview_deck,
    note,
    with_bad_crc,
    with_col_json,
)


def upload(client: TestClient, data: bytes):  # type: ignore[no-untyped-def]
    return client.post("/admin/anki", files={"file": ("deck.apkg", data)})


def test_the_summary_lists_reversed_type_in_and_left_out_fields(
    admin_client: TestClient, content_dir: Path
) -> None:
    response = upload(admin_client, interview_deck())
    assert response.status_code == 200, response.text
    text = response.text
    assert "4 notes; 5 new drafts, 0 updated, 0 unchanged" in text
    assert "1 reversed card: each became a draft of its own" in text
    assert "1 type-in note" in text
    assert "field &#34;Source&#34; of note type &#34;Basic with source&#34;: not imported" in text
    again = upload(admin_client, interview_deck())
    assert "4 notes; 0 new drafts, 0 updated, 5 unchanged" in again.text


@pytest.mark.parametrize(
    ("package", "sentence"),
    [
        (
            lambda: with_col_json(interview_deck(), "models", [{"name": "Basic"}]),
            "note types are not an object",
        ),
        (
            lambda: with_col_json(interview_deck(), "decks", {"1": "Default"}),
            "decks are not an object",
        ),
        (lambda: with_bad_crc(interview_deck()), "damaged inside the zip"),
        (lambda: b"PK\x03\x04 truncated", "an .apkg is a zip file"),
    ],
)
def test_malformed_packages_get_a_400_sentence(
    admin_client: TestClient, content_dir: Path, package, sentence: str
) -> None:  # type: ignore[no-untyped-def]
    response = upload(admin_client, package())
    assert response.status_code == 400, response.text
    assert sentence in response.text


def test_too_many_notes_get_a_400_sentence(
    admin_client: TestClient, content_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services.anki import package

    monkeypatch.setattr(package, "MAX_NOTES", 3)
    monkeypatch.setattr(package.read_apkg, "__kwdefaults__", {"max_notes": 3})
    response = upload(admin_client, build([note(BASIC, f"q{i}", "a", f"g{i}") for i in range(4)]))
    assert response.status_code == 400
    assert "holds 4 notes; the limit is 3 per package" in response.text


def test_a_draft_with_broken_math_is_flagged_and_cannot_be_published(
    admin_client: TestClient, content_dir: Path
) -> None:
    from tests.web.test_admin import card_form, version_in

    apkg = build([note(BASIC, "Half?", "It is \\(\\frac{1}{2\\)", "g-half")])
    assert upload(admin_client, apkg).status_code == 200
    page = admin_client.get("/admin/cards/half")
    assert page.status_code == 200
    form = card_form(
        base_version=version_in(page.text),
        status="draft",
        id="half",
        title="Half?",
        deck="deep-learning/optimizers",
        tags="",
        source="anki:g-half",
        demo_path="",
        demo_proves=[],
        s_question="Half?",
        s_answer="It is $\\frac{1}{2$",
        s_key_points="",
    )
    preview = admin_client.post("/admin/preview", data=form)
    assert 'id="preview-problems"' in preview.text
    assert 'data-field="Answer" data-line="1">Answer: A { is never closed' in preview.text
    refused = admin_client.post("/admin/cards", data=form, follow_redirects=False)
    assert refused.status_code == 422
    assert "A { is never closed" in refused.text
    assert not (content_dir / "cards/deep-learning/optimizers/half.md").exists()

    form["s_answer"] = "It is $\\frac{1}{2}$"
    published = admin_client.post("/admin/cards", data=form, follow_redirects=False)
    assert published.status_code == 303, published.text
    text = (content_dir / "cards/deep-learning/optimizers/half.md").read_text()
    assert "source: [anki:g-half]" in text or "anki:g-half" in text
