"""Repository-wide pytest setup.

Notebooks collected by ``pytest --nbval`` run in the smoke profile (csg.profile), so the
whole book executes on a 2-core CPU in minutes; an explicit ``CSG_PROFILE`` wins.
nbval starts each notebook's kernel in the notebook's folder (book/), with this
process's environment: the repository root goes on its PYTHONPATH so ``import csg``
works in a checkout that has not been pip-installed.
"""

import os
from pathlib import Path

os.environ.setdefault("CSG_PROFILE", "smoke")

_root = str(Path(__file__).resolve().parent)
_path = os.environ.get("PYTHONPATH", "")
if _root not in _path.split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_root, _path) if p)
