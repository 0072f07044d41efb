"""The web process never executes a demo file (issue 13): its constants are read with
``ast`` and its Params schema comes from a sandboxed process, cached by the file's hash."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient

from app.demos import params as demo_params
from app.demos.metadata import read_metadata
from app.main import create_app
from tests.conftest import make_settings
from tests.workers.conftest import hostile_content

HOSTILE_TOP = """
import os as _os
for _d in ({dirs!r}):
    try:
        open(_os.path.join(_d, "marker-%d" % _os.getpid()), "w").write("ran")
    except OSError:
        pass
"""


EXTRA = '\nTITLE_ZH = "标记"\nCLAIMS_ZH = {"sum-correct": "和是对的。"}\nBENEFITS_FROM_GPU = True\n'


def hostile_demo(content: Path, dirs: list[str]) -> Path:
    quick = (content / "demos" / "quick.py").read_text()
    head, _, tail = quick.partition("from app.demos.contract")
    path = content / "demos" / "marker.py"
    path.write_text(
        head + HOSTILE_TOP.format(dirs=tuple(dirs)) + "from app.demos.contract" + tail
        + EXTRA
    )  # fmt: skip
    return path


def test_listing_and_pages_never_run_a_demo_top_level_here(
    tmp_path: Path, database_url: str
) -> None:
    content = hostile_content(tmp_path / "content")
    markers = tmp_path / "markers"
    markers.mkdir()
    hostile_demo(content, [str(markers), str(Path.cwd())])
    settings = make_settings(tmp_path, database_url, content, demo_workers=0)
    app = create_app(settings)
    with TestClient(app) as client:
        listing = client.get("/api/demos").json()
        marker = next(d for d in listing["demos"] if d["name"] == "marker")
        assert marker["params_schema"]["properties"]["a"]["maximum"] == 100
        assert marker["title_zh"] == "标记" and marker["benefits_from_gpu"] is True
        assert marker["claims_zh"] == {"sum-correct": "和是对的。"}
        assert client.get("/demos/marker").status_code == 200
    web_pid = os.getpid()
    assert not (markers / f"marker-{web_pid}").exists()
    assert not list(markers.iterdir()), "the top level ran where it could write to the host"
    assert not (Path.cwd() / f"marker-{web_pid}").exists()


def test_schemas_are_cached_by_hash_and_a_change_is_seen(tmp_path: Path) -> None:
    content = hostile_content(tmp_path / "content")
    path = content / "demos" / "quick.py"
    calls: list[int] = []
    real = demo_params._run_describer

    def counting(paths, require_sandbox):  # type: ignore[no-untyped-def]
        calls.append(len(paths))
        return real(paths, require_sandbox)

    demo_params._memory.clear()
    original = demo_params.cache_dir
    demo_params.cache_dir = lambda: tmp_path / "cache"  # type: ignore[assignment]
    demo_params._run_describer = counting  # type: ignore[assignment]
    try:
        first = demo_params.describe_one(path)
        again = demo_params.describe_one(path)
        assert first == again and calls == [1]
        demo_params._memory.clear()  # another process: the disk cache answers
        assert demo_params.describe_one(path) == first and calls == [1]
        path.write_text(path.read_text().replace("le=100", "le=50"))
        changed = demo_params.describe_one(path)
        assert calls == [1, 1]
        assert changed.schema is not None
        assert changed.schema["properties"]["a"]["maximum"] == 50
        assert read_metadata(path).code_hash == changed.code_hash
    finally:
        demo_params.cache_dir = original  # type: ignore[assignment]
        demo_params._run_describer = real  # type: ignore[assignment]


def test_a_demo_that_ends_the_describer_only_breaks_itself(tmp_path: Path) -> None:
    content = hostile_content(tmp_path / "content")
    bad = content / "demos" / "exits.py"
    bad.write_text("import os\nos._exit(3)\nCLAIMS = {}\n")
    demo_params._memory.clear()
    found = demo_params.describe([bad, content / "demos" / "quick.py"])
    assert found[content / "demos" / "quick.py"].schema is not None
    assert "status 3" in (found[bad].error or "")
