"""Table 1's declared design: its phases in order and the seeds from the pilot's spread."""

import numpy as np
import pytest

from csg.registry import DECADES
from csg.stats import seeds_needed
from csgbook import design, selection


def test_seeds_come_from_the_noisier_target_and_respect_the_budget():
    quiet, noisy = [1.0, 1.5, 2.0], [0.0, 3.0, 6.0]
    n = design.evaluation_seeds({"mnistm": noisy, "mnist": quiet})
    assert n == min(design.MAX_SEEDS, seeds_needed(np.std(noisy, ddof=1), design.TARGET_EFFECT))
    assert design.evaluation_seeds({"mnistm": [0.0, 30.0, -30.0]}) == design.MAX_SEEDS


def test_the_design_runs_in_its_declared_order(monkeypatch):
    done = {}  # run name -> record: what the fake results folder holds
    from csg.config import Config

    def fetch(**p):
        return done.get(Config(**p).run_name)

    def record_all(runs, score=lambda p: 0.5, real=lambda p: 0.4):
        for p in runs:
            final = {"synthetic_val": {"score": score(p)}} | {t: {"score": real(p)} for t in ("mnistm", "mnist")}
            done[Config(**p).run_name] = {"final": final, "wall_time_s": 600.0}

    first = design.needed_runs(fetch)
    pilot = {(m, s) for m in ("csg", "vanilla") for s in design.PILOT_SEEDS}
    assert {(p["method"], p["seed"]) for p in first[:6]} == pilot
    assert all(p["seed"] in selection.SELECTION_SEEDS for p in first[6:])  # then the selections, nothing else
    # an optimum at 0.1 (or lr 0.1) inside every grid; record until the selections are done
    for _ in range(selection.MAX_EXTENSIONS + 2):
        record_all([p for p in design.needed_runs(fetch) if p["seed"] >= 100],
                   score=lambda p: 1 - abs(np.log10(p.get("weight", p.get("lr", 0.1)) or 0.1) + 1) / 10,
                   real=lambda p: 0.4 + 0.01 * (p["seed"] % 3) * (p["method"] == "csg"))  # fmt: skip
    evaluation = design.needed_runs(fetch)
    n = design.power_analysis(fetch)["seeds"]
    assert evaluation and all(p["seed"] < n for p in evaluation)
    assert {p.get("weight") for p in evaluation if p["method"] == "csg"} == {0.1}  # chosen inside the grid
    record_all(evaluation)
    assert design.needed_runs(fetch) == [design.PRIOR]  # the control after Table 1
    record_all([design.PRIOR])
    monkeypatch.setattr(design, "prior_trained", lambda: False)  # recorded, but its checkpoint is gone
    assert design.needed_runs(fetch) == [design.PRIOR]
    monkeypatch.setattr(design, "prior_trained", lambda: True)
    control = design.needed_runs(fetch)
    assert {p["prior"] for p in control} == {design.prior_name()}
    assert {p["method"] for p in control} == set(design.CONTROL_METHODS)
    record_all(control)
    ablations = design.needed_runs(fetch)  # the ablations last: Table 1's CSG, one change at a time
    assert len(ablations) == len(design.ABLATIONS) * n and {p["weight"] for p in ablations} == {0.1}
    record_all(ablations)
    assert design.needed_runs(fetch) == []


def test_the_cost_counts_every_run_of_the_design_at_the_pilots_wall_time():
    fetch = lambda **p: {"wall_time_s": 360.0}  # noqa: E731
    out = design.cost(10, fetch)
    grids = len(selection.REGULARIZED) * len(DECADES) + len(selection.ORACLE_LRS)
    assert out["runs"]["selection (before any extension)"] == grids * len(selection.SELECTION_SEEDS)
    assert out["runs"]["evaluation"] == 8 * 10 and out["runs"]["positive control"] == 1 + 4 * 10
    assert out["runs"]["ablations"] == len(design.ABLATIONS) * 10
    assert out["cpu_hours"] == pytest.approx(0.1 * sum(out["runs"].values()))


def test_table1_is_judged_over_the_seeds_its_pilot_called_for():
    import json

    from csgbook import claims, scales

    power = json.loads(design.POWER_RECORD.read_text())
    assert scales.TABLE1_SEEDS == tuple(range(power["seeds"])) == claims.TABLE1.seeds


def test_the_control_claims_judge_the_runs_the_control_trains(monkeypatch):
    from csg.config import Config
    from csgbook import claims

    def fetch(**p):  # the records of results/, with the control's runs still to train
        return None if "prior" in p else {"final": {}} if p == design.PRIOR else claims.recorded(**p)

    monkeypatch.setattr(design, "prior_trained", lambda: True)
    n = len(claims.TABLE1.seeds)
    trained = {Config(**p).run_name for p in design.control_runs(n, fetch)}
    judged = {
        Config(**side | {"seed": s}).run_name for c in claims.CONTROL for side in c.sides("mnistm") for s in c.seeds
    }
    assert trained == judged and len(judged) == len(design.CONTROL_METHODS) * min(n, design.CONTROL_SEEDS_MAX)
    assert {c.group for c in claims.CONTROL}.isdisjoint(c.group for c in claims.CLAIMS)


def test_the_ablation_claims_judge_table1s_csg_and_the_runs_the_ablations_train():
    from csg.config import Config
    from csgbook import claims

    def fetch(**p):  # the records of results/, with the ablations' runs still to train
        return None if set(p) & set(claims.CHOICE_IGNORES) else claims.recorded(**p)

    def run_names(side, seeds):
        return {Config(**side | {"seed": s}).run_name for s in seeds}

    trained = {Config(**p).run_name for p in design.ablation_runs(len(claims.TABLE1.seeds), fetch)}
    table1 = next(c for c in claims.CLAIMS if c.source == "Table 1" and c.reference["method"] == "vanilla")
    ablations = [c for c in claims.CLAIMS if c.chapter == "05_ablations"]
    assert len(ablations) == 3
    assert claims.ABLATIONS.run == claims.TABLE1.run  # chapter 05 trains at Table 1's scale
    for c in ablations:
        table1_csg, changed = c.sides("mnistm")
        assert run_names(table1_csg, c.seeds) == run_names(table1.sides("mnistm")[0], table1.seeds)
        assert run_names(changed, c.seeds) <= trained


def test_the_prior_trains_for_as_many_steps_as_table1s_baseline():
    from csg.config import Config
    from csg.scaling import RunScale

    prior, baseline = Config(**design.PRIOR), Config(method="vanilla")
    per_epoch = len(prior.benchmark().dataset("real_train")) // prior.batch_size
    table1 = RunScale(baseline.train_size, baseline.batch_size, baseline.epochs).steps
    assert abs(prior.epochs * per_epoch - table1) < per_epoch  # within one epoch of the prior's
