"""The book's test configuration says what it means."""

import configparser
from pathlib import Path

from nbval.plugin import get_sanitize_patterns

BOOK = Path(__file__).resolve().parents[2] / "book"


def test_nbval_reads_every_sanitize_rule():
    # nbval parses the file with its own regex, which needs "replace: " with its space even when the
    # replacement is empty; a rule it cannot read is silently dropped.
    text = (BOOK / "nbval_sanitize.cfg").read_text()
    sections = configparser.ConfigParser()
    sections.read_string(text)
    assert len(get_sanitize_patterns(text)) == len(sections.sections()) == 7


def test_no_chapter_shows_a_test_marker():
    # nbval's cell tags (nbval-ignore-output) keep the markers out of what readers see
    import nbformat

    for path in sorted(BOOK.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            assert "NBVAL_" not in cell.source, f"{path.name}: a cell shows an nbval marker"


def test_the_book_reads_the_top_level_config():
    # one _config.yml, at the top level (the design card); book/_config.yml links to it
    link = BOOK / "_config.yml"
    assert link.is_symlink() and link.resolve() == (BOOK.parent / "_config.yml").resolve()
