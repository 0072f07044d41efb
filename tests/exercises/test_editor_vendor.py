"""The vendored editor is served by the app itself, with its licence."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

VENDOR = Path(__file__).resolve().parents[2] / "app/web/static/vendor/codemirror"


def test_the_editor_bundle_is_served_by_the_app(client: TestClient) -> None:
    response = client.get("/static/vendor/codemirror/codemirror.bundle.js")
    assert response.status_code == 200
    assert "BackpropEditor" in response.text
    assert "Mod-Enter" in response.text  # the submit key is built in


def test_the_licence_names_every_bundled_package() -> None:
    licence = (VENDOR / "LICENSE").read_text()
    assert licence.startswith("MIT License")
    for package in ("codemirror 6.", "@codemirror/lang-python 6.", "@lezer/python 1."):
        assert f"- {package}" in licence
