"""csgbook.sweep: the runs a chapter's claims still lack, trained several at a time."""

import pytest

from csg.config import Config
from csgbook import claims, selection, sweep


def test_sweep_lists_a_chapters_missing_runs_selection_first_then_the_chosen_weight(results):
    seg = claims.SEGMENTATION_SCALE
    names = lambda runs: {(c.method, c.weight, c.seed) for c in runs}  # noqa: E731
    seeds, grid = claims.SEGMENTATION.seeds, sorted(claims.SEGMENTATION.weight_grid)
    vanilla = {("vanilla", None, s) for s in seeds}
    candidates = {("csg", w, s) for w in grid for s in selection.SELECTION_SEEDS}
    assert names(sweep.needed_runs("07_segmentation")) == candidates | vanilla
    everything = sweep.needed_runs("07_segmentation", all_weights=True)
    assert names(everything) == candidates | vanilla | {("csg", w, s) for w in grid for s in seeds}
    assert all(c.patch_grid == 8 and c.image_size == seg["image_size"] for c in everything if c.method == "csg")
    for w, val in zip(grid, (40, 45, 30)):  # the middle one wins on synthetic_val
        for s in selection.SELECTION_SEEDS:
            results(val, method="csg", weight=w, seed=s, patch_grid=8, **seg)
    assert names(sweep.needed_runs("07_segmentation")) == vanilla | {("csg", grid[1], s) for s in seeds}
    for s in seeds:
        results(40, method="vanilla", seed=s, **seg)
        results(40, method="csg", weight=grid[1], seed=s, patch_grid=8, **seg)
    assert sweep.needed_runs("07_segmentation") == []


@pytest.mark.slow
def test_sweep_reports_each_runs_exit_code_keeps_its_log_and_tries_a_failed_run_once(tmp_path):
    bad = Config(method="csg", dataset="no_such_dataset", run_dir=str(tmp_path / "runs"))
    asked = []
    codes = sweep.launch(lambda: asked.append(1) or [bad], parallel=1, threads=1, log_dir=tmp_path)
    assert codes == {bad.run_name: 2}  # not retried
    assert len(asked) == 2  # asked at the start and when the slot freed, not at every poll while it ran
    assert "no_such_dataset" in (tmp_path / f"{bad.run_name}.log").read_text()
    assert not sweep.lock_path(bad).exists()


def test_a_run_another_live_process_trains_is_skipped(tmp_path):
    import os

    cfg = Config(method="csg", run_dir=str(tmp_path))
    assert not sweep.locked(cfg)
    sweep.lock_path(cfg).parent.mkdir(parents=True)
    sweep.lock_path(cfg).write_text(str(os.getpid()))
    assert sweep.locked(cfg)
    assert sweep.launch(lambda: [cfg], parallel=1, threads=1, log_dir=tmp_path) == {}
    sweep.lock_path(cfg).write_text("999999999")  # a process long gone: a stale lock
    assert not sweep.locked(cfg)


def test_the_command_line_lists_the_designs_runs(capsys, monkeypatch):
    # the design's runs as one still to train (the recorded design has none left)
    monkeypatch.setattr(sweep.design, "needed_runs", lambda: [dict(method="csg", weight=0.1, seed=7)])
    sweep.main(["table1", "--dry-run"])
    out = capsys.readouterr().out
    assert "1 runs to train for table1 now" in out
    assert "-m csg.train" in out and "--weight=0.1" in out and "--seed=7" in out
