"""requirements.lock pins every package the project and its dev tools need, so
`make setup`, CI and the Dockerfile install the versions the tests ran on."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    return normalized(re.split(r"[\s\[<>=!~;]", spec.strip(), maxsplit=1)[0])


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        if match:
            pins[normalized(match.group(1))] = match.group(2)
    return pins


def test_every_dependency_is_pinned() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pins = locked()
    missing = sorted({requirement_name(s) for s in wanted} - set(pins))
    assert missing == [], f"not in requirements.lock (run `make lock`): {missing}"


def test_setup_and_the_image_install_with_the_lock() -> None:
    assert "-c requirements.lock" in (ROOT / "Makefile").read_text()
    assert "requirements.lock" in (ROOT / "Dockerfile").read_text()
