"""Shared by the library's tests (tests/lib) and the book's (tests/book): the fixtures module
``data_fixtures`` (tiny trees in the real datasets' official layouts, a tiny run) is importable
from both folders."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
