"""What a chapter calls: runs at the active profile's scale, and tables beside the paper's.

In the standard profile a run whose record already exists under ``results/`` is read,
not trained again (a run's name is derived from everything that decides its numbers),
so chapters can share runs and the site rebuilds without re-training. In the smoke
profile every run is tiny, trained afresh, and written to a temporary folder: smoke
numbers never reach ``results/``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pandas as pd
import torch

from csg import records
from csg.checkpoints import load_trained
from csg.config import Config
from csg.data import Benchmark
from csg.engine import train
from csg.records import read_record, record_path
from csg.runtime import resolve_device

from . import design, selection
from .profile import current_profile, is_smoke
from .scales import SMOKE_GENERATION, SMOKE_PRIOR, SMOKE_SIZES
from .selection import Selection

_SMOKE_DIR = None
# Set (to anything) to read recorded runs only: a run that is not recorded raises instead of
# training (the tests re-render the chapters' tables from results/ this way).
RECORDS_ONLY = "CSG_RECORDS_ONLY"

# A chapter's papermill parameters that are run settings (fields of csg.engine.Config).
RUN_PARAMETERS = (
    "dataset", "data_root", "arch", "weights", "device",
    "epochs", "image_size", "train_size", "eval_size", "final_eval_size", "batch_size", "lr", "recipe",
)  # fmt: skip


def given(**params) -> dict:
    """The parameters a chapter actually set (papermill parameters left at None are dropped)."""
    return {k: v for k, v in params.items() if v is not None}


def chapter_params(namespace: dict) -> dict:
    """The run settings among a chapter's parameters (pass ``globals()``): each one the chapter
    defines, except those left at None, which mean "the engine's default". ``weights=None`` is
    kept: it means a random initialisation, not the default ImageNet weights."""
    return {k: namespace[k] for k in RUN_PARAMETERS if k in namespace and (namespace[k] is not None or k == "weights")}


def smoke_dir() -> Path:
    """The smoke profile's folder for runs and results: temporary, one per process, under
    ``$CSG_SMOKE_ROOT`` when set (the tests set it and remove it when they end: a notebook kernel
    is killed, not exited), and removed when the process exits. A smoke chapter writes gigabytes
    of checkpoints there; left behind, a few test runs fill the disk."""
    global _SMOKE_DIR
    root = os.environ.get("CSG_SMOKE_ROOT") or None
    _SMOKE_DIR = _SMOKE_DIR or tempfile.TemporaryDirectory(prefix="csg-smoke-", dir=root)
    return Path(_SMOKE_DIR.name)


def config(**params) -> Config:
    """A run's configuration: the engine's defaults, then ``params``. In the smoke profile the
    defaults are tiny runs on tiny generated benchmarks (csgbook.scales), written to a temporary
    folder; the benchmark's sizes are part of the run's name, so a smoke run never takes a
    standard run's name."""
    if not is_smoke():
        return Config(**params)
    dataset = params.get("dataset", "digits")
    smoke = SMOKE_SIZES.get(dataset, {}) | SMOKE_GENERATION.get(dataset, {})
    return Config(**smoke | params | dict(run_dir=str(smoke_dir() / "runs"), results_dir=str(smoke_dir() / "results")))


def benchmark(**params) -> Benchmark:
    """The benchmark of the run ``params`` describe, at the active profile's sizes."""
    return config(**params).benchmark()


def run(gpus: int = 1, **params) -> dict:
    """The record of a run: read from its results folder when recorded there, else trained now.

    With ``gpus`` > 1 the run trains data-parallel in ``gpus`` processes under torchrun
    (one per GPU; gloo processes on a CPU), and its record is read as usual. A run whose
    loss diverged is recorded as such (``"diverged"`` instead of ``"final"``).
    """
    cfg = config(**params)
    path = record_path(cfg)
    if not path.exists() and os.environ.get(RECORDS_ONLY):
        raise RuntimeError(f"{path.name} is not recorded, and ${RECORDS_ONLY} forbids training it: {cfg.identity()}")
    if not path.exists() and gpus > 1:
        from csg.train import command

        done = subprocess.run(command(cfg, gpus), cwd=records.REPO_ROOT, capture_output=True, text=True)
        training_log(cfg).write_text(done.stdout + done.stderr)
        if done.returncode != 0 and not path.exists():
            raise RuntimeError(
                f"torchrun with {gpus} processes failed (exit {done.returncode}): "
                + " ".join(command(cfg, gpus))
                + "\n"
                + done.stderr[-3000:]
            )
    elif not path.exists():
        try:
            with logged(cfg):
                train(cfg)
        except FloatingPointError:
            if not path.exists():
                raise
    return json.loads(path.read_text()) | {"record": path.name}


def show_provenance(device="auto") -> None:
    """Print where a chapter's stored outputs came from: profile, device, versions, commit and date."""
    info = records.provenance(device if isinstance(device, torch.device) else resolve_device(device))
    print(f"profile: {current_profile()}   device: {info['device']}   torch {info['versions']['torch']}")
    print(f"commit: {info['git_commit']}   date: {info['date']}")


def scale_table(cfg: Config, seeds, runs=()):
    """The scale a chapter's runs train at, in one small table: backbone, images, schedule, seeds,
    evaluation sizes and recipe of ``cfg`` (its chapter's parameters) over ``seeds``; at the
    standard profile, the device and training time of ``runs`` (records: those its claims read)."""
    bench = cfg.benchmark()
    train_images = len(bench.dataset(cfg.train_split, None)) if cfg.train_size is None else cfg.train_size
    steps = cfg.epochs * (train_images // cfg.batch_size)
    final = "every image" if cfg.final_eval_size is None else f"{cfg.final_eval_size:,}"
    rows = {
        "benchmark": cfg.dataset,
        "backbone": f"{cfg.arch} ({'ImageNet weights' if cfg.weights else 'random initialisation'})",
        "image size": f"{cfg.image_size} px",
        "training images": f"{train_images:,} (split {cfg.train_split!r})",
        "schedule": f"{cfg.epochs} epochs of batch {cfg.batch_size}: {steps:,} steps",
        "recipe": RECIPE_NAMES[cfg.recipe],
        "seeds": f"{len(seeds)} ({', '.join(map(str, seeds))})",
        "evaluation images per split": f"{cfg.eval_size:,} every epoch, {final} at the end" if cfg.eval_size else final,
    }
    if cfg.patch_grid:
        rows["dense CSG"] = f"{cfg.patch_grid} × {cfg.patch_grid} patches"
    if runs and not is_smoke():
        rows["device"] = ", ".join(sorted({r["device"] for r in runs})).replace(" 1 threads", " 1 thread")
        hours = sum(r["wall_time_s"] for r in runs) / 3600
        rows["training time"] = f"{hours:.1f} h over the {len(runs)} runs its claims are judged on"
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["this chapter's runs"])
    return table.style.set_properties(**{"text-align": "left"})  # a Styler: no cell is cut short


RECIPE_NAMES = {
    "official": "the official code's (its SGD, 100-step quadratic warm-up, EMA from the queue's span)",
    "book": "the book's first (torch's SGD, warm-up and EMA scaled with the run)",
}


def measures_dir() -> Path:
    """Where measurements that are not a training run's record go (results/measures/; smoke: a temporary folder)."""
    return (smoke_dir() / "results" if is_smoke() else records.RESULTS_DIR) / "measures"


def save_measure(name: str, values: dict, runs: dict[str, dict]) -> Path:
    """Record a measurement made from trained runs (e.g. an attention share per seed), with
    the records it was measured on and its provenance, as ``measures/<name>.json``."""
    return records.write_json(
        measures_dir() / f"{name}.json",
        {
            "values": values,
            "runs": {k: r.get("record") for k, r in runs.items()},
            **records.provenance(resolve_device("auto")),
        },
    )


def choose(method: str, weight_grid=None, gpus: int = 1, **params) -> Selection:
    """``method``'s λ (the oracle: its lr) by the book's selection rule (:mod:`csgbook.selection`),
    a λ from ``weight_grid`` (None: the method's own), each candidate at the selection seeds read
    from its record or trained now, at the active profile; ``params``: the runs' other parameters."""
    return selection.select(method, lambda **p: run(gpus, **p), weight_grid, **params)


def run_settings(settings: dict[str, dict], seeds, gpus: int = 1, **params) -> dict[tuple, dict]:
    """``{(label, seed): record}`` for every setting (label -> its own parameters, which win over
    ``params``) and every seed."""
    return {(label, s): run(gpus, **params | p | {"seed": s}) for label, p in settings.items() for s in seeds}


def prior(gpus: int = 1, **params) -> tuple[str, dict]:
    """The positive control's prior at the active profile (:data:`csgbook.design.PRIOR`, the rest
    of its parameters ``params``), read from its record or trained now: its run name (what a
    control run's ``prior`` names) and its record. A control run still to train needs the
    prior's checkpoint."""
    settings = params | design.PRIOR | (SMOKE_PRIOR if is_smoke() else {})
    return config(**settings).run_name, run(gpus, **settings)


def trained_model(**params):
    """The trained f_e of a run: from its last checkpoint when there is one, else trained now. A
    recorded run trained again (its checkpoint lost) writes its record to a scratch folder, so
    the record a chapter shows is never replaced by a re-training's."""
    cfg = config(**params)
    model = load_trained(cfg)
    if model is not None:
        return model
    if os.environ.get(RECORDS_ONLY):
        raise RuntimeError(f"{cfg.run_name} has no checkpoint, and ${RECORDS_ONLY} forbids training it")
    if record_path(cfg).exists():
        cfg = dataclasses.replace(cfg, results_dir=tempfile.mkdtemp(prefix="csg-retrained-"))
    with logged(cfg):
        return train(cfg).model


def training_log(cfg: Config) -> Path:
    """Where a training run from a chapter writes its progress lines (beside the sweep's logs)."""
    folder = Path(cfg.run_dir or records.REPO_ROOT / "runs") / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{cfg.run_name}.log"


@contextlib.contextmanager
def logged(cfg: Config):
    """Send a training's per-epoch lines and progress bars to its log file, not into the chapter:
    to a reader of the site they are plumbing; the record holds every number they show."""
    with open(training_log(cfg), "a") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        yield


def target_features(model, split: str, **params):
    """Globally pooled last-stage features of ``model`` on one evaluation split, (N, C)."""
    from csg.evaluation import evaluate
    from csg.loaders import eval_loader

    cfg = config(**params)
    bench = cfg.benchmark()
    loader = eval_loader(bench, cfg, model.backbone, split)
    device = resolve_device(cfg.device)
    return evaluate(model.to(device), loader, bench.task, bench.num_classes, device)["features"]


def say(text: str, width: int = 76) -> None:
    """Print a sentence computed from the records, wrapped to fit a page (no side scrolling)."""
    print(textwrap.fill(text, width) + "\n")


def scores(rec: dict, splits) -> dict[str, float | None]:
    """A run's final score (%) on each split; None for a run that diverged."""
    return {s: rec["final"][s]["score"] * 100 if "final" in rec else None for s in splits}


def recorded_scores(splits, **params) -> pd.Series | None:
    """A standard run's final score (%) on each of ``splits``, read from its record; None while
    it is not recorded (a chapter that only reads, such as chapter 03's measured gaps)."""
    rec = read_record(Config(**params))
    return None if rec is None else pd.Series(scores(rec, splits))


def seed_scores(runs: dict[tuple, dict], splits) -> pd.DataFrame:
    """Final scores (%) of runs keyed by (setting, seed): one row per run, NaN where one diverged."""
    table = pd.DataFrame({key: scores(rec, splits) for key, rec in runs.items()}).T.astype(float)
    table.index.names = ["setting", "seed"]
    return table


def over_seeds(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Each setting's mean ± the half-width of its 95 % CI over seeds (rows indexed by setting, seed);
    energies (columns named "energy ..." or "HSE ...") to 4 decimals, scores to 2."""
    from csg.stats import mean_ci

    def summary(col):
        digits = 4 if str(col).startswith(("energy", "HSE")) else 2
        return per_seed[col].groupby(level=0, sort=False).agg(lambda x: mean_ci(x.dropna()).format(digits=digits))

    return pd.DataFrame({col: summary(col) for col in per_seed.columns})


def candidates_table(selections: dict[str, Selection], splits) -> pd.DataFrame:
    """Every candidate's final scores (%), averaged over the selection seeds: one row per (setting,
    value), the chosen value ticked ("✓ at the edge" when every extension left it at one)."""
    rows = {}
    for label, chosen in selections.items():
        for value in sorted(chosen.means):
            runs = [scores(r, splits) for (v, _), r in chosen.records.items() if v == value]
            tick = ("✓ at the edge" if chosen.at_edge else "✓") if value == chosen.chosen else ""
            mean = pd.DataFrame(runs).astype(float).mean(skipna=False)  # a diverged seed: NaN
            rows[(label, candidate_label(chosen.parameter, value))] = mean.to_dict() | {"chosen": tick}
    return pd.DataFrame(rows).T


def candidate_label(parameter: str, value: float) -> str:
    """A candidate as tables name it: "λ = 0.1", "lr = 0.01"."""
    return f"{'λ' if parameter == 'weight' else parameter} = {value:g}"


def beside_paper(ours: pd.DataFrame, paper_rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Our rows with the paper's numbers as extra columns: the paper's rows first, in its order
    (NaN where this book did not run the setting), then our rows the paper does not have."""
    rows = list(paper_rows) + [r for r in ours.index if r not in paper_rows]
    return ours.reindex(rows).join(pd.DataFrame.from_dict(paper_rows, orient="index"))


def paper_table(runs: dict[tuple, dict], splits, paper_rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Each setting's mean ± CI over seeds on each split, beside the paper's numbers."""
    return beside_paper(over_seeds(seed_scores(runs, splits)), paper_rows)


def selection_table(runs: dict[tuple, dict], split: str) -> pd.DataFrame:
    """Each setting's mean score (%) on ``split`` under three ways of picking the epoch: the last,
    the best on ``split`` itself (the official code's oracle), the best on synthetic_val."""
    picks = {
        "last epoch": "last_epoch",
        "best on target (oracle)": f"best_on_target:{split}",
        "best on synthetic val": "best_on_synthetic_val",
    }
    rows = {
        key: {label: r["selection"][pick][split] * 100 for label, pick in picks.items() if pick in r["selection"]}
        for key, r in runs.items()
        if "final" in r
    }
    return pd.DataFrame(rows).T.groupby(level=0, sort=False).mean()


def say_difference(per_seed: pd.DataFrame, setting: str, reference: str, split: str, what: str):
    """Print the paired difference ``setting - reference`` on ``split`` over the seeds both have
    (rows of ``per_seed`` indexed by setting, seed) and return it."""
    from csg.stats import paired_difference

    d = paired_difference(per_seed.xs(setting)[split], per_seed.xs(reference)[split])
    say(f"{what}: {d.format(signed=True)} points on {split} over {d.n} seeds.")
    return d


def score_table(runs: dict[str, dict], splits=None, percent: bool = True) -> pd.DataFrame:
    """One row per run, the final score on each evaluated split (in % by default)."""
    rows = {}
    for label, rec in runs.items():
        splits_ = splits or list(rec["final"])
        rows[label] = {s: rec["final"][s]["score"] * (100 if percent else 1) for s in splits_}
    return pd.DataFrame.from_dict(rows, orient="index")


def provenance_table(runs: dict[str, dict]) -> pd.DataFrame:
    """Where each run's numbers came from: its commit (short), how many commits its setting's runs
    span (labels "setting, seed N" or "setting, λ = w"; more than one: compare them before reading
    the setting across seeds), whether the training code (``csg/``) changed since, its device,
    date and wall time; a sentence above it sums them up."""
    table = pd.DataFrame.from_dict(
        {
            label: {
                "commit": (rec.get("git_commit") or "?")[:7],
                "csg/ since": code_since(rec.get("git_commit")),
                "device": rec.get("device"),
                "date": (rec.get("date") or "")[:10],
                "minutes": round(rec.get("wall_time_s", float("nan")) / 60, 1),
            }
            for label, rec in runs.items()
        },
        orient="index",
    )
    setting = table.index.str.replace(r", (seed \d+|λ = .*)$", "", regex=True)
    table.insert(1, "setting's commits", table.groupby(setting)["commit"].transform("nunique"))
    commits, changed = table["commit"].unique(), (table["csg/ since"] == "changed").sum()
    mixed = sorted(set(setting[table["setting's commits"] > 1]))
    say(
        f"{len(table)} runs, {table['minutes'].sum() / 60:.1f} h of training on "
        f"{' and '.join(table['device'].dropna().unique())}, from {len(commits)} commit"
        f"{'s' if len(commits) > 1 else ''}; settings whose seeds span several commits: "
        f"{', '.join(mixed) or 'none'}; {changed} runs made by training code that has changed since."
    )
    return table


def code_since(commit: str | None) -> str:
    """ "same" when the training code (csg/) is what it was at ``commit``, "changed" when not,
    "unknown" when the commit is not in this repository."""
    if not commit:
        return "unknown"
    return _code_since(commit.removesuffix("-dirty"))


@functools.cache
def _code_since(commit: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(records.REPO_ROOT), "diff", "--quiet", commit, "--", "csg"], capture_output=True
    )
    return {0: "same", 1: "changed"}.get(done.returncode, "unknown")
