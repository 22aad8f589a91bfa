"""The library is the library: it never reads the book's profile."""

from pathlib import Path

import csg
from csg.config import Config

LIBRARY = Path(csg.__file__).parent


def test_no_module_of_the_library_reads_the_profile():
    readers = [p.relative_to(LIBRARY) for p in LIBRARY.rglob("*.py") if "CSG_PROFILE" in p.read_text()]
    assert readers == []


def test_a_run_is_named_the_same_whatever_the_profile(monkeypatch):
    monkeypatch.setenv("CSG_PROFILE", "standard")
    standard = Config(method="csg").run_name
    monkeypatch.setenv("CSG_PROFILE", "smoke")
    assert Config(method="csg").run_name == standard
