"""Table 1's declared design: the bracketing selection and the seeds from the pilot's spread."""

import numpy as np
import pytest

from csg.registry import DECADES
from csg.stats import seeds_needed
from csgbook import design


def fake_records(score):
    """A fetch(**params) whose runs all exist, scoring ``score(params)`` on synthetic_val."""
    return lambda **p: {"final": {"synthetic_val": {"score": score(p)}}}


def test_selection_takes_the_best_mean_over_selection_seeds_inside_the_grid():
    # Best at λ = 0.1 on average; seed 101 alone would pick 1.0.
    table = {(0.1, 100): 0.9, (0.1, 101): 0.8, (1.0, 100): 0.7, (1.0, 101): 0.85}
    chosen, means, missing = design.select("csg", fake_records(lambda p: table.get((p["weight"], p["seed"]), 0.5)))
    assert (chosen, missing) == (0.1, []) and means[0.1] == pytest.approx(0.85)


def test_selection_extends_the_grid_past_an_edge_and_stops_after_its_extensions():
    chosen, means, _ = design.select("csg", fake_records(lambda p: -abs(np.log10(p["weight"]) - np.log10(1e-4))))
    assert chosen == pytest.approx(1e-4) and min(means) == pytest.approx(1e-5)  # one past the optimum: bracketed
    always_lower = fake_records(lambda p: -p["weight"])
    chosen, means, _ = design.select("csg", always_lower)
    assert chosen == pytest.approx(1e-5) and len(means) == len(DECADES) + design.MAX_EXTENSIONS


def test_selection_names_the_runs_it_still_needs_and_tunes_the_oracles_lr():
    chosen, _, missing = design.select("oracle", lambda **p: None)
    assert chosen is None and {(m["lr"], m["seed"]) for m in missing} == {
        (lr, s) for lr in design.ORACLE_LRS for s in design.SELECTION_SEEDS
    }
    assert design.tuned("vanilla") is None and not set(design.SELECTION_SEEDS) & set(range(20))


def test_seeds_come_from_the_noisier_target_and_respect_the_budget():
    quiet, noisy = [1.0, 1.5, 2.0], [0.0, 3.0, 6.0]
    n = design.evaluation_seeds({"mnistm": noisy, "mnist": quiet})
    assert n == min(design.MAX_SEEDS, seeds_needed(np.std(noisy, ddof=1), design.TARGET_EFFECT))
    assert design.evaluation_seeds({"mnistm": [0.0, 30.0, -30.0]}) == design.MAX_SEEDS
