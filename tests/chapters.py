"""Executing a chapter as a user would: papermill in a fresh kernel, in book/, one thread."""

import json
import os
import subprocess
import sys
from pathlib import Path

BOOK = Path(__file__).resolve().parents[1] / "book"


def execute_chapter(chapter: str, out_dir: Path, env: dict, params: dict | None = None) -> dict:
    """Run ``book/<chapter>.ipynb`` with papermill under ``env`` (added to this process's) and
    ``params``; the executed notebook, read back."""
    out = out_dir / f"{chapter}.ipynb"
    args = [sys.executable, "-m", "papermill", str(BOOK / f"{chapter}.ipynb"), str(out), "--cwd", str(BOOK)]
    args += ["-k", "python3"] + (["-y", json.dumps(params)] if params else [])
    done = subprocess.run(
        args, env=os.environ | {"OMP_NUM_THREADS": "1"} | env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(out.read_text())
