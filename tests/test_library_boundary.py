"""The library is the library: it never reads the book's profile, and a smoke-sized run can never
carry a standard run's name."""

from pathlib import Path

import pytest

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


@pytest.mark.parametrize("chapter", ["01_motivating_example", "04_visda", "05_ablations", "07_segmentation"])
def test_a_smoke_run_never_carries_a_standard_runs_name(monkeypatch, chapter):
    from csgbook import experiments, scales

    dataset = "digit_scenes" if chapter == "07_segmentation" else "digits"
    standard = scales.STANDARD[chapter].run
    monkeypatch.setenv("CSG_PROFILE", "smoke")
    # even with the standard run's sizes, a smoke run trains on the smoke benchmark: another name
    smoke = experiments.config(dataset=dataset, method="csg", **standard)
    assert smoke.run_name != Config(dataset=dataset, method="csg", **standard).run_name
    assert smoke.generation == scales.SMOKE_GENERATION[dataset]
