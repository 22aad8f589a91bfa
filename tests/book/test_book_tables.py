"""The chapters' table and figure helpers (csgbook.experiments, csgbook.viz) on hand-made records."""

import matplotlib

matplotlib.use("Agg")

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csg.stats import mean_ci
from csgbook import experiments, paper, viz


def record(scores: dict[str, float], history=None, selection=None, per_class=None) -> dict:
    """A run record as the engine writes it, with only the fields the helpers read."""
    final = {s: {"score": v, "per_class": per_class or [v, v]} for s, v in scores.items()}
    rec = {"final": final, "class_names": ["zero", "one"], "history": history or []}
    return rec | ({"selection": selection} if selection else {})


def test_chapter_params_keep_the_run_settings_a_chapter_set():
    namespace = {"dataset": "digits", "epochs": None, "lr": 0.1, "seeds": [0, 1], "weights": None, "plt": object()}
    # None means "the engine's default" and is dropped, except weights=None (random initialisation).
    assert experiments.chapter_params(namespace) == {"dataset": "digits", "lr": 0.1, "weights": None}


def test_beside_paper_puts_the_papers_rows_first_in_its_order():
    ours = pd.DataFrame({"mnist": ["50.00 ± 1.00", "40.00 ± 2.00"]}, index=["extra", "M = 6"])
    rows = paper.rows({0: 60.86, 6: 62.88}, paper.magnitude_label)
    table = experiments.beside_paper(ours, rows)
    assert list(table.index) == ["M = 0 (no aug.)", "M = 6", "extra"]
    assert table.loc["M = 6", "mnist"] == "40.00 ± 2.00" and table.loc["M = 6", "paper (VisDA-17)"] == 62.88
    assert pd.isna(table.loc["M = 0 (no aug.)", "mnist"]) and pd.isna(table.loc["extra", "paper (VisDA-17)"])


def test_paper_table_is_the_mean_and_ci_over_seeds():
    runs = {("a", s): record({"mnist": v}) for s, v in enumerate([0.40, 0.50, 0.45])}
    table = experiments.paper_table(runs, ["mnist"], {"a": {"paper": 1.0}})
    assert table.loc["a", "mnist"] == mean_ci([40.0, 50.0, 45.0]).format()


def test_candidates_table_averages_the_selection_seeds_and_ticks_the_chosen_value():
    from csgbook.selection import select

    synthetic = {(0.1, 100): 0.9, (0.1, 101): 0.8, (1.0, 100): 0.7, (1.0, 101): 0.6}
    fetch = lambda **p: record({"synthetic_val": synthetic.get((p["weight"], p["seed"]), 0.5)})  # noqa: E731
    chosen = select("si", fetch, weight_grid=(0.01, 0.1, 1.0))
    table = experiments.candidates_table({"SI": chosen}, ["synthetic_val"])
    assert table.loc[("SI", "λ = 0.1"), "chosen"] == "✓" and table.loc[("SI", "λ = 1"), "chosen"] == ""
    assert table.loc[("SI", "λ = 1"), "synthetic_val"] == pytest.approx(65.0)


def test_selection_table_averages_each_pick_over_seeds():
    def picked(last, oracle):
        return {"last_epoch": {"mnist": last}, "best_on_target:mnist": {"mnist": oracle}}

    runs = {
        ("a", 0): record({"mnist": 0.4}, selection=picked(0.4, 0.6)),
        ("a", 1): record({"mnist": 0.5}, selection=picked(0.5, 0.8)),
    }
    table = experiments.selection_table(runs, "mnist")
    assert table.loc["a", "last epoch"] == pytest.approx(45.0)
    assert table.loc["a", "best on target (oracle)"] == pytest.approx(70.0)
    assert "best on synthetic val" not in table.columns  # not recorded by these runs


def test_say_difference_pairs_seeds(capsys):
    per_seed = experiments.seed_scores(
        {("new", s): record({"mnist": v}) for s, v in enumerate([0.5, 0.7])}
        | {("old", s): record({"mnist": v}) for s, v in enumerate([0.4, 0.5])},
        ["mnist"],
    )
    d = experiments.say_difference(per_seed, "new", "old", "mnist", "New minus old")
    assert d.mean == pytest.approx(15.0) and d.n == 2
    assert capsys.readouterr().out.startswith("New minus old: +15.00")


def test_statistical_figures_draw_what_they_are_given():
    history = [{"epoch": e, "mnist": 0.1 * e} for e in (1, 2)]
    runs = {
        (m, s): record({"mnist": 0.3 + 0.1 * s}, history, per_class=[0.2, 0.4 + s / 10])
        for m in ("a", "b")
        for s in (0, 1)
    }
    grid = viz.seed_strips(experiments.seed_scores(runs, ["mnist"]))
    assert len(grid.axes.flat) == 1
    mean = viz.per_class_heatmap(runs, "mnist")
    np.testing.assert_allclose(mean.loc["a"].to_numpy(), [20.0, 45.0])
    fig = viz.learning_curves(runs, ["mnist"], seed=0)
    assert [len(line.get_xdata()) for line in fig.axes[0].lines] == [2, 2]


@pytest.mark.slow
def test_smoke_folder_is_removed_when_the_process_exits(tmp_path):
    # A smoke chapter writes gigabytes of checkpoints there; left behind, test runs fill the disk.
    script = "from csgbook import experiments; d = experiments.smoke_dir(); (d / 'x').write_text('1'); print(d)"
    book = str(Path(experiments.__file__).parents[1])
    env = os.environ | {"CSG_PROFILE": "smoke", "CSG_SMOKE_ROOT": str(tmp_path), "PYTHONPATH": book}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    folder = Path(done.stdout.strip())
    assert folder.parent == tmp_path and not folder.exists()


def test_the_scale_table_adds_the_device_and_training_time_of_the_runs_it_is_given(monkeypatch):
    from csg.config import Config

    runs = [
        {"device": "x86_64 CPU, 1 threads", "wall_time_s": 1800.0},
        {"device": "x86_64 CPU, 1 threads", "wall_time_s": 5400.0},
    ]
    monkeypatch.setattr(experiments, "is_smoke", lambda: False)
    rows = experiments.scale_table(Config(), (0, 1), runs).data["this chapter's runs"]
    assert rows["device"] == "x86_64 CPU, 1 thread" and rows["training time"].startswith("2.0 h over the 2 runs")
    assert rows["schedule"].endswith("steps") and "device" not in experiments.scale_table(Config(), (0,)).data.index
    monkeypatch.setattr(experiments, "is_smoke", lambda: True)  # a smoke page shows no standard run's time
    assert "training time" not in experiments.scale_table(Config(), (0, 1), runs).data.index
