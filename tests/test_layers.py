"""The layers' contract (docs/ARCHITECTURE.md), checked on every import in app/, at
module level or inside a function: web > services > (content, demos, workers) > models;
workers never reach the services or the database; services never reach the web;
routes never import each other; commands never import the web app."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of app code; `from app.x import y` counts as
    app.x.y, which is within app.x whether y is a module or a name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name == "app" or name.startswith("app.")]


def module_name(path: Path) -> str:
    parts = (
        path.relative_to(path.parents[len(path.parts) - path.parts.index("app") - 1])
        .with_suffix("")
        .parts
    )
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


# (who, what it must not import, why)
RULES = [
    ("app.models", ("app.content", "app.services", "app.web", "app.workers", "app.commands"),
     "models are the bottom layer"),
    ("app.content", ("app.db", "app.services", "app.web", "app.workers", "app.commands",
                     "app.main", "app.models"), "content knows no database and no HTTP"),
    # app.demos asks the sandbox (app.workers) for a demo's Params schema: the web process
    # never executes a demo file itself.
    ("app.demos", ("app.db", "app.services", "app.web", "app.commands", "app.main",
                   "app.models"), "demo contracts know no database and no HTTP"),
    ("app.workers", ("app.services", "app.db", "app.models", "app.web", "app.commands",
                     "app.main"), "workers run hostile code: no services, no database"),
    ("app.services", ("app.web", "app.main", "app.commands"), "services never import the web"),
    ("app.commands", ("app.main", "app.web"), "commands never import the web app"),
]  # fmt: skip


def violations(app: Path = APP) -> list[str]:
    found = []
    for path in sorted(app.rglob("*.py")):
        me = module_name(path)
        rel = path.relative_to(app.parent)
        for line, name in imports_of(path):
            for who, forbidden, why in RULES:
                if within(me, who) and any(within(name, f) for f in forbidden):
                    found.append(f"{rel}:{line}: imports {name} ({why})")
            other_route = within(name, "app.web.routes") and not within(name, me)
            if within(me, "app.web.routes") and me != "app.web.routes" and other_route:
                found.append(f"{rel}:{line}: imports {name} (routes never import routes)")
    return sorted(set(found))


def test_every_import_keeps_the_layers() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("app/workers/x.py", "from app.services import demo_runs"),
        ("app/workers/x.py", "import app.db"),
        ("app/services/x.py", "from app.web.deps import SessionDep"),
        ("app/content/x.py", "from app.models.card import Card"),
        ("app/commands/x.py", "from app.main import create_app"),
        ("app/web/routes/a.py", "from app.web.routes.b import thing"),
    ],
)
def test_the_checker_sees_a_breach(tmp_path: Path, source: str, line: str) -> None:
    target = tmp_path / source
    target.parent.mkdir(parents=True)
    target.write_text(f"def f():\n    {line}\n")
    assert len(violations(tmp_path / "app")) == 1
