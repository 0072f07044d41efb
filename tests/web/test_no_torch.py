"""The web process never imports torch, even with the demo pool running."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_serving_requests_leaves_torch_out_of_the_web_process(
    tmp_path: Path, database_url: str
) -> None:
    content = tmp_path / "content"
    (content / "demos").mkdir(parents=True)
    (content / "cards").mkdir()
    quick = PROJECT_ROOT / "tests/workers/hostile_demos/quick.py"
    (content / "demos" / "quick.py").write_text(quick.read_text())
    script = textwrap.dedent(
        f"""
        import sys
        from fastapi.testclient import TestClient
        from tests.conftest import make_settings
        from app.main import create_app
        from pathlib import Path

        settings = make_settings(Path({str(tmp_path)!r}), {database_url!r}, Path({str(content)!r}),
                                 demo_workers=1)
        app = create_app(settings)
        with TestClient(app) as client:
            app.state.demo_service.executor.wait_ready(60)
            from tests.web.test_demo_api import logged_in
            logged_in(client)  # a run that misses the cache needs an account
            for path in ("/", "/healthz", "/api/demos", "/api/demos/quick", "/demos/quick"):
                assert client.get(path).status_code == 200, path
            import re
            token = re.search(r'csrf-token" content="([^"]+)', client.get("/demos/quick").text)[1]
            r = client.post("/api/demos/quick/runs", json={{}}, headers={{"X-CSRF-Token": token}})
            assert r.status_code == 202, r.text
        loaded = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
        print("TORCH:", loaded)
        assert not loaded
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TORCH: []" in result.stdout
