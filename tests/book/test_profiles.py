"""The book's profiles, and what keeps a smoke run apart from a standard one."""

import pytest

from csg.config import Config
from csgbook.profile import by_profile, current_profile


@pytest.mark.parametrize(
    "raw,expected",
    [(None, "standard"), ("", "standard"), ("smoke", "smoke"), (" Standard ", "standard"), ("SMOKE", "smoke")],
)
def test_profile_from_environment(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("CSG_PROFILE", raising=False)
    else:
        monkeypatch.setenv("CSG_PROFILE", raw)
    assert current_profile() == expected
    assert by_profile(standard=30, smoke=1) == (1 if expected == "smoke" else 30)


def test_unknown_profile_lists_accepted_values(monkeypatch):
    monkeypatch.setenv("CSG_PROFILE", "paper")
    with pytest.raises(ValueError, match="accepted values: standard, smoke"):
        current_profile()


@pytest.mark.parametrize("chapter", ["01_motivating_example", "04_visda", "05_ablations", "07_segmentation"])
def test_a_smoke_run_never_carries_a_standard_runs_name(monkeypatch, chapter):
    from csgbook import claims, experiments, scales

    dataset = claims.SEGMENTATION_DATASET if chapter == "07_segmentation" else "digits"
    standard = scales.STANDARD[chapter].run
    monkeypatch.setenv("CSG_PROFILE", "smoke")
    # even with the standard run's sizes, a smoke run trains on the smoke benchmark: another name
    smoke = experiments.config(dataset=dataset, method="csg", **standard)
    assert smoke.run_name != Config(dataset=dataset, method="csg", **standard).run_name
    assert smoke.generation == scales.SMOKE_GENERATION[dataset]
