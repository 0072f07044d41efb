"""Reports demos' ``Params`` JSON schemas: run as ``python -m app.workers.describe PATH...``
inside the sandbox (``app.demos.params`` starts it), never in the web process.

Prints one JSON object: path -> {"code_hash", "schema"} or {"code_hash", "error"}. Each
file is imported (its top level runs here, in the sandbox) and its ``Params()`` must build
from defaults. The schema's hash is that of the bytes imported, so a file changed in
between is never cached under the wrong hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any


def describe(path: Path) -> dict[str, Any]:
    from app.demos.registry import load_demo

    try:
        source = path.read_bytes()
    except OSError as exc:
        return {"code_hash": "", "error": f"cannot read: {exc.strerror or exc}"}
    digest = hashlib.sha256(source).hexdigest()
    try:
        spec = load_demo(path)
        schema = spec.params_model.model_json_schema()
    except BaseException as exc:  # a demo's top level may do anything, SystemExit included
        text = str(exc).removeprefix(f"{path}: ")
        if type(exc).__name__ != "DemoError":
            text = f"import failed: {type(exc).__name__}: {exc}"
        return {"code_hash": digest, "error": text}
    if spec.code_hash != digest:
        return {"code_hash": digest, "error": "the file changed while it was read"}
    return {"code_hash": digest, "schema": schema}


def main() -> None:
    sys.dont_write_bytecode = True
    # What a demo's top level prints goes to stderr; the report alone to stdout.
    out = os.dup(1)
    os.dup2(2, 1)
    report = {raw: describe(Path(raw)) for raw in sys.argv[1:]}
    data = (json.dumps(report) + "\n").encode()
    while data:
        data = data[os.write(out, data) :]


if __name__ == "__main__":
    main()
