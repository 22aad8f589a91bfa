"""Repository-wide pytest setup.

Notebooks collected by ``pytest --nbval`` run in the smoke profile (csg.profile), so the
whole book executes on a 2-core CPU in minutes; an explicit ``CSG_PROFILE`` wins.
nbval starts each notebook's kernel in the notebook's folder (book/), with this
process's environment: the repository root and book/ go on its PYTHONPATH so ``import csg``
and ``import csgbook`` work in a checkout that has not been pip-installed.
"""

import os
import sys
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
