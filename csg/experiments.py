"""What a chapter calls: runs at the active profile's scale, and tables beside the paper's.

In the standard profile a run whose record already exists under ``results/`` is read,
not trained again (a run's name is derived from everything that decides its numbers),
so chapters can share runs and the site rebuilds without re-training. In the smoke
profile every run is tiny, trained afresh, and written to a temporary folder: smoke
numbers never reach ``results/``.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd

from . import records
from .engine import Config, load_trained, train
from .profile import is_smoke

SMOKE = {"digits": dict(image_size=64, batch_size=16, train_size=64, eval_size=32, epochs=1, warmup_iters=2,
                        queue_size=256),
         "digit_scenes": dict(image_size=64, batch_size=4, train_size=8, eval_size=4, epochs=1, warmup_iters=1,
                              queue_size=256)}
_SMOKE_DIR = None


def given(**params) -> dict:
    """The parameters a chapter actually set (papermill parameters left at None are dropped)."""
    return {k: v for k, v in params.items() if v is not None}


def config(**params) -> Config:
    """A run's configuration: the engine's defaults (smoke: tiny sizes), then ``params``."""
    global _SMOKE_DIR
    if not is_smoke():
        return Config(**params)
    _SMOKE_DIR = _SMOKE_DIR or tempfile.mkdtemp(prefix="csg-smoke-")
    sizes = SMOKE.get(params.get("dataset", "digits"), {})
    return Config(**sizes | params | dict(run_dir=f"{_SMOKE_DIR}/runs", results_dir=f"{_SMOKE_DIR}/results"))


def run(**params) -> dict:
    """The record of a run: read from its results folder when recorded there, else trained now."""
    cfg = config(**params)
    path = Path(cfg.results_dir or records.RESULTS_DIR) / f"{cfg.run_name}.json"
    if not path.exists():
        train(cfg)
    return json.loads(path.read_text()) | {"record": path.name}


def trained_model(**params):
    """The trained f_e of a run: from its last checkpoint when there is one, else trained now."""
    cfg = config(**params)
    return load_trained(cfg) or train(cfg).model


def score_table(runs: dict[str, dict], splits=None, percent: bool = True) -> pd.DataFrame:
    """One row per run, the final score on each evaluated split (in % by default)."""
    rows = {}
    for label, rec in runs.items():
        splits_ = splits or list(rec["final"])
        rows[label] = {s: rec["final"][s]["score"] * (100 if percent else 1) for s in splits_}
    return pd.DataFrame.from_dict(rows, orient="index")


def provenance_table(runs: dict[str, dict]) -> pd.DataFrame:
    """Where each run's numbers came from: commit, device, date, wall time, record file."""
    cols = ("record", "git_commit", "device", "date", "wall_time_s")
    return pd.DataFrame.from_dict({label: {c: rec.get(c) for c in cols} for label, rec in runs.items()},
                                  orient="index")
