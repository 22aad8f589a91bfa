"""``python -m csgbook.sweep 07_segmentation --parallel 2``: train the runs a chapter's claims
(or, with ``table1``, Table 1's declared design, :mod:`csgbook.design`) still lack, several
at a time, each in its own ``python -m csg.train`` process, recorded under ``results/``
where the chapter and the index read them.

The runs come from :data:`csgbook.claims.CLAIMS`, so a chapter's claims and the runs trained
for them cannot drift apart: both sides of each claim at each of its seeds. A side whose λ is
chosen (:data:`~csgbook.claims.CHOSEN`) needs its selection's runs (:mod:`csgbook.selection`)
before its seeds can run at the chosen λ; ``--all-weights`` runs the seeds at every λ of the
starting grid meanwhile, so that one batch holds everything (a short GPU session), at the
cost of runs no table reads. Run it again after a batch: what is recorded is skipped, what the chosen λ now
unlocks is added. Every run is resumable (``--resume``), so an interrupted batch loses at most
an epoch per run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from csg import records
from csg.config import Config
from csg.records import record_path
from csg.train import command

from . import claims, design, selection
from .claims import CHOSEN, CLAIMS


def needed_runs(chapter: str, all_weights: bool = False, **common) -> list[Config]:
    """The runs of ``chapter``'s claims that are not recorded yet, in training order (selections first).

    ``common``: parameters every run gets (the chapter's own, e.g. ``device="cuda"``).
    """
    selecting, rest = [], []
    for claim in CLAIMS:
        if claim.chapter != chapter or claim.setting is None:
            continue
        splits = list(claim.setting_by_split or [None])
        for side in (side for split in splits for side in claim.unresolved_sides(split, common)):
            parameter = next((k for k, v in side.items() if v == CHOSEN), None)
            if parameter is None:
                rest += [side | {"seed": s} for s in claim.seeds]
                continue
            fixed = {k: v for k, v in side.items() if k not in ("method", parameter)}
            chosen = selection.select(side["method"], claims.recorded, claim.grid, **fixed)
            selecting += chosen.missing
            values = [chosen.chosen] if chosen.chosen is not None else []
            if all_weights and not values:
                values = sorted({p[parameter] for p in chosen.missing})
            rest += [side | {parameter: v, "seed": s} for v in values for s in claim.seeds]
    runs, seen = [], set()
    for params in selecting + rest:
        cfg = Config(**params)
        if cfg.run_name not in seen and not record_path(cfg).exists():
            seen.add(cfg.run_name)
            runs.append(cfg)
    return runs


def launch(next_runs: Callable[[], list[Config]], parallel: int, threads: int, log_dir: Path) -> dict[str, int]:
    """Train what ``next_runs()`` lists, ``parallel`` at a time with ``threads`` CPU threads each,
    asking it again whenever a slot frees (so a run that a finished one unlocks, such as a
    chosen λ's seeds, comes in its turn); {run name: exit code}. A run another launcher is
    training (its lock file names a live process) is skipped."""
    log_dir.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"OMP_NUM_THREADS": str(threads)}
    active, codes = {}, {}
    while True:
        if len(active) < parallel:  # next_runs() reads every record: ask it only when a slot is free
            waiting = [c for c in next_runs() if c.run_name not in active and c.run_name not in codes and not locked(c)]
            for cfg in waiting[: parallel - len(active)]:
                log = open(log_dir / f"{cfg.run_name}.log", "w")
                process = subprocess.Popen(command(cfg), cwd=records.REPO_ROOT, env=env, stdout=log, stderr=log)
                lock_path(cfg).parent.mkdir(parents=True, exist_ok=True)
                lock_path(cfg).write_text(str(process.pid))
                active[cfg.run_name] = (cfg, process, log, time.time())
                print(f"start {cfg.run_name}", flush=True)
        if not active:
            return codes
        time.sleep(2)
        for name, (cfg, process, log, start) in list(active.items()):
            if process.poll() is not None:
                log.close()
                lock_path(cfg).unlink(missing_ok=True)
                codes[name] = process.returncode
                print(f"exit {process.returncode} {name} ({time.time() - start:.0f} s)", flush=True)
                del active[name]


def lock_path(cfg: Config) -> Path:
    """The file naming the process that trains ``cfg`` (beside its checkpoint)."""
    return records.checkpoint_path(cfg.run_dir, cfg.run_name).with_name("training.pid")


def locked(cfg: Config) -> bool:
    """Whether a live process is training ``cfg`` (a stale lock, its process gone, does not count)."""
    try:
        os.kill(int(lock_path(cfg).read_text()), 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m csgbook.sweep", description=__doc__.splitlines()[0])
    p.add_argument("chapter", help="a chapter whose claims need runs, e.g. 07_segmentation or 04_visda")
    p.add_argument("--parallel", type=int, default=2, help="runs trained at once (default 2)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads per run (default 1)")
    p.add_argument("--all-weights", action="store_true", help="run every seed at every λ of a grid")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    p.add_argument("--num-workers", type=int, default=None, help="DataLoader workers per run")
    p.add_argument("--dry-run", action="store_true", help="print the runs' commands, train nothing")
    args = p.parse_args(argv)
    chapters = sorted({c.chapter for c in CLAIMS if c.setting is not None})
    if args.chapter not in (*chapters, "table1"):
        raise SystemExit(f"no claim of chapter {args.chapter!r} trains runs; accepted: {', '.join(chapters)}, table1")
    common = {"device": args.device, "resume": True}  # neither changes a run's name
    if args.num_workers is not None:
        common["num_workers"] = args.num_workers

    def next_runs() -> list[Config]:
        if args.chapter == "table1":  # Table 1's declared design (csgbook.design)
            runs = [Config(**p | common) for p in design.needed_runs()]
        else:
            runs = needed_runs(args.chapter, args.all_weights, **common)
        return list({cfg.run_name: cfg for cfg in runs}.values())

    runs = next_runs()
    print(f"{len(runs)} runs to train for {args.chapter} now (more as their results unlock them)", flush=True)
    if args.dry_run:
        print("\n".join(" ".join(command(c)) for c in runs))
        return
    codes = launch(next_runs, args.parallel, args.threads, records.REPO_ROOT / "runs" / "logs")
    sys.exit(max(codes.values(), default=0))


if __name__ == "__main__":
    main()
