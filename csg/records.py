"""Run records and checkpoints: written atomically, with the provenance of every number.

A run's record is one JSON file under ``results/`` named after the run (``Config.run_name``):
its configuration, final scores and energies per split, both model-selection protocols,
the per-epoch history, its settings, wall time and provenance.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import platform
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path

import torch

from .metrics import hse

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "results"
_PACKAGES = ("torch", "torchvision", "timm", "numpy", "torchmetrics", "csg-book")


def _atomic_write(path: Path, write) -> Path:
    """Write through a temporary file in the same folder, then rename: never a half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path, obj) -> Path:
    return _atomic_write(path, lambda f: f.write((json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()))


def save_checkpoint(path, state: dict) -> Path:
    return _atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


COMMIT_AT_IMPORT = git_commit()


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def cpu_model() -> str | None:
    """The processor's model name, which :func:`device_name` leaves out: two machines that both
    read "x86_64 CPU" can differ twofold in speed (Linux's /proc/cpuinfo; elsewhere, platform's)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or None


def provenance(device: torch.device) -> dict:
    """Where a number came from: the commit the code was imported from (a commit made while a run
    trains does not change what ran), device, library versions, date."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "git_commit": COMMIT_AT_IMPORT,
        "device": device_name(device),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "versions": versions,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def checkpoint_path(run_dir, run_name: str) -> Path:
    """Where run ``run_name``'s checkpoint is kept (``run_dir`` None: the repository's runs/)."""
    return Path(run_dir or REPO_ROOT / "runs") / run_name / "checkpoint.pt"


def record_path(cfg) -> Path:
    """Where the record of run ``cfg`` (a :class:`csg.config.Config`) is written."""
    return (Path(cfg.results_dir) if cfg.results_dir else RESULTS_DIR) / f"{cfg.run_name}.json"


def read_record(cfg) -> dict | None:
    """The record of run ``cfg``, or None while it is not recorded."""
    path = record_path(cfg)
    return json.loads(path.read_text()) if path.exists() else None


def write_record(cfg, record: dict) -> Path:
    return write_json(record_path(cfg), record)


def final_record(cfg, bench, evals: dict, settings, device, history: list, elapsed: float) -> dict:
    """Final metrics, both model-selection protocols, HSE and provenance, as one JSON-able dict."""
    final = {
        split: {
            "score": e["score"],
            "per_class": e["per_class"],
            "metric": e["metric"],
            "hse": hse(e["features"]),
            "n": len(e["features"]),
        }
        for split, e in evals.items()
    }
    selection = {"last_epoch": {s: history[-1][s] for s in evals}}
    if bench.val_split:
        best = max(history, key=lambda h: h[bench.val_split])
        selection["best_on_synthetic_val"] = {"epoch": best["epoch"], **{s: best[s] for s in evals}}
    for target in bench.target_splits:  # the paper's protocol: best epoch on the target itself -- an oracle
        best = max(history, key=lambda h: h[target])
        selection[f"best_on_target:{target}"] = {"epoch": best["epoch"], target: best[target]}
    return {
        "config": dataclasses.asdict(cfg),
        "task": bench.task,
        "class_names": list(bench.class_names),
        "final": final,
        "selection": selection,
        "history": history,
        "settings": dataclasses.asdict(settings),
        "wall_time_s": round(elapsed, 1),
        **provenance(device),
    }


def diverged_record(cfg, bench, error: str, settings, device, history: list) -> dict:
    """A record with ``"diverged"`` (the error) in place of ``"final"``: never chosen, shown as diverged."""
    return {
        "config": dataclasses.asdict(cfg),
        "task": bench.task,
        "diverged": error,
        "settings": dataclasses.asdict(settings),
        "history": history,
        **provenance(device),
    }
