"""The editor builds file paths from the form's deck and id: the card schema checks
them first, and no target may resolve outside the content or staging directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import Card
from app.services.authoring.paths import OutsideRoot, inside
from tests.web.test_admin import card_form

ESCAPES = [
    {"deck": "../../../../../../tmp/{tag}"},
    {"deck": "training/../../../{tag}"},
    {"deck": "..\\..\\{tag}"},
    {"deck": "training/.hidden"},
    {"id": "../../{tag}", "base_version": "", "status": "new"},
    {"id": "a/../../{tag}"},
]


def files_under(root: Path) -> set[str]:
    return {p.as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside content/ that nothing may write into."""
    target = tmp_path / "outside"
    target.mkdir()
    return target


def escaped(overrides: dict[str, str], outside: Path) -> dict[str, str]:
    # The escapes climb to /tmp-like depths; point them at our own `outside` folder.
    return {k: v.replace("/tmp/{tag}", str(outside / "x")).replace("{tag}", "x")
            for k, v in overrides.items()}  # fmt: skip


@pytest.mark.parametrize("overrides", ESCAPES)
@pytest.mark.parametrize("action", ["preview", "publish", "draft"])
def test_paths_from_the_form_never_leave_the_content_root(
    admin_client: TestClient,
    content_dir: Path,
    outside: Path,
    engine,  # type: ignore[no-untyped-def]
    overrides: dict[str, str],
    action: str,
) -> None:
    form = card_form(demo_path="", demo_params="", demo_proves=[], **escaped(overrides, outside))
    before_root = files_under(content_dir.parent.parent)
    if action == "preview":
        response = admin_client.post("/admin/preview", data=form)
        assert response.status_code == 200
        assert "invalid" in response.text.lower()
    else:
        response = admin_client.post(
            "/admin/cards", data={**form, "action": action}, follow_redirects=False
        )
        assert response.status_code == 422, response.text[:500]
        assert "invalid" in response.text.lower()
    assert files_under(content_dir.parent.parent) == before_root
    assert not list(outside.iterdir())
    with Session(engine) as session:
        assert session.exec(select(Card.id)).all() == []


def test_inside_refuses_escapes(tmp_path: Path) -> None:
    root = tmp_path / "content"
    root.mkdir()
    assert inside(root, "cards/a/b.md") == root / "cards/a/b.md"
    for bad in ("../x.md", "cards/../../x.md", "/etc/passwd"):
        with pytest.raises(OutsideRoot):
            inside(root, bad)
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(OutsideRoot):
        inside(root, "link/x.md")
