"""The chapters that show results read from ``results/`` show what the records say now: each is
re-executed at the standard profile from the records alone (training is forbidden) and its
outputs are compared with the stored ones. A stale chapter fails here, with the command that
refreshes it."""

import json
import re

import pytest
from chapters import BOOK, execute_chapter

pytestmark = pytest.mark.slow  # executes notebooks

# Lines that say where and when the stored outputs were made, not what they show.
PROVENANCE = re.compile(r"^(profile: .*|commit: .*)$")


def shown(notebook: dict) -> list[str]:
    """Every text a chapter shows (printed lines, tables), without run-to-run noise: pandas'
    random table ids, object addresses, the provenance lines, and the folded provenance cells
    (whether the training code changed since a record's commit depends on today's commit)."""
    lines = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code" or "provenance" in cell["metadata"].get("tags", []):
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            text = "".join(out.get("text", "")) + "".join(data.get("text/html", data.get("text/plain", "")))
            text = re.sub(r"T_[0-9a-f]{5}", "T_", re.sub(r"0x[0-9a-f]+", "0x", text))
            lines += [line for line in text.split("\n") if not PROVENANCE.match(line)]
    return lines


@pytest.mark.parametrize("chapter", ["index", "04_visda", "05_ablations"])
def test_a_chapters_stored_tables_are_what_the_records_give_now(chapter, tmp_path):
    executed = execute_chapter(chapter, tmp_path, {"CSG_PROFILE": "standard", "CSG_RECORDS_ONLY": "1"})
    stored, now = shown(json.loads((BOOK / f"{chapter}.ipynb").read_text())), shown(executed)
    first = next((i for i, (a, b) in enumerate(zip(stored, now)) if a != b), min(len(stored), len(now)))
    assert stored == now, (
        f"book/{chapter}.ipynb is stale from its line {first}: stored {stored[first : first + 3]!r}, "
        f"now {now[first : first + 3]!r}. Re-execute it at the standard profile (README, 'To refresh')."
    )
