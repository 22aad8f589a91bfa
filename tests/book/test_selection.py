"""The book's one selection rule: the best mean synthetic score over the selection seeds, bracketed."""

import numpy as np
import pytest

from csg.registry import DECADES
from csgbook import selection


def fake_records(score):
    """A fetch(**params) whose runs all exist, scoring ``score(params)`` on synthetic_val."""
    return lambda **p: {"final": {"synthetic_val": {"score": score(p)}}}


def test_selection_takes_the_best_mean_over_selection_seeds_inside_the_grid():
    # Best at λ = 0.1 on average; seed 101 alone would pick 1.0.
    table = {(0.1, 100): 0.9, (0.1, 101): 0.8, (1.0, 100): 0.7, (1.0, 101): 0.85}
    chosen = selection.select("csg", fake_records(lambda p: table.get((p["weight"], p["seed"]), 0.5)))
    assert (chosen.chosen, chosen.missing, chosen.at_edge) == (0.1, [], False)
    assert chosen.means[0.1] == pytest.approx(0.85) and len(chosen.records) == 2 * len(DECADES)


def test_selection_extends_the_grid_past_an_edge_and_stops_after_its_extensions():
    peak = selection.select("csg", fake_records(lambda p: -abs(np.log10(p["weight"]) - np.log10(1e-4))))
    assert peak.chosen == pytest.approx(1e-4) and min(peak.means) == pytest.approx(1e-5)  # bracketed
    always_lower = selection.select("csg", fake_records(lambda p: -p["weight"]))
    assert always_lower.chosen == pytest.approx(1e-5) and always_lower.at_edge
    assert len(always_lower.means) == len(DECADES) + selection.MAX_EXTENSIONS


def test_selection_names_the_runs_it_still_needs_with_the_chapters_parameters():
    chosen = selection.select("oracle", lambda **p: None, weight_grid=(5.0,), image_size=64, lr=0.5)  # a λ grid
    assert chosen.chosen is None and chosen.parameter == "lr"
    assert {(m["lr"], m["seed"], m["image_size"]) for m in chosen.missing} == {
        (lr, s, 64) for lr in selection.ORACLE_LRS for s in selection.SELECTION_SEEDS
    }
    assert selection.tuned("vanilla") is None and not set(selection.SELECTION_SEEDS) & set(range(20))


def test_a_given_grid_and_seeds_replace_the_defaults_and_a_diverged_run_never_wins():
    def fetch(**p):  # 75 diverged; the rest peak at 750
        return {} if p["weight"] == 75.0 else {"final": {"synthetic_val": {"score": -abs(np.log10(p["weight"] / 750))}}}

    chosen = selection.select("csg", fetch, weight_grid=(7.5, 75.0, 750.0), seeds=(7,))
    assert chosen.chosen == 750.0 and max(chosen.means) == pytest.approx(7500.0)  # bracketed from above
    assert {s for _, s in chosen.records} == {7} and chosen.means[75.0] == float("-inf")
