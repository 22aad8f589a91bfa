"""Repository-wide pytest setup.

Notebooks collected by ``pytest --nbval`` run in the smoke profile (csg.profile), so the
whole book executes on a 2-core CPU in minutes; an explicit ``CSG_PROFILE`` wins.
nbval starts each notebook's kernel in the notebook's folder (book/), with this
process's environment: the repository root and book/ go on its PYTHONPATH so ``import csg``
and ``import csgbook`` work in a checkout that has not been pip-installed. Smoke runs write
their checkpoints under one temporary folder (``CSG_SMOKE_ROOT``), removed when the tests end.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("CSG_PROFILE", "smoke")

_root = Path(__file__).resolve().parent
_path = os.environ.get("PYTHONPATH", "").split(os.pathsep)
for _dir in (str(_root), str(_root / "book")):  # csg, and csgbook (the book's own package)
    if _dir not in _path:
        _path.insert(0, _dir)
    if _dir not in sys.path:
        sys.path.insert(0, _dir)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in _path if p)

# nbval kills each notebook's kernel, so a kernel cannot clean up after itself: remove its
# smoke runs here, unless the caller chose the folder.
_smoke_root = None
if "CSG_SMOKE_ROOT" not in os.environ:
    _smoke_root = os.environ["CSG_SMOKE_ROOT"] = tempfile.mkdtemp(prefix="csg-smoke-tests-")


def pytest_unconfigure(config):
    if _smoke_root:
        shutil.rmtree(_smoke_root, ignore_errors=True)
