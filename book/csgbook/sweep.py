"""``python -m csgbook.sweep 07_segmentation --parallel 2``: train the runs a chapter's claims
(or, with ``table1``, Table 1's declared design, :mod:`csgbook.design`) still lack, several
at a time, each in its own ``python -m csg.train`` process, recorded under ``results/``
where the chapter and the index read them.

The runs come from :data:`csgbook.claims.CLAIMS`, so a chapter's claims and the runs trained
for them cannot drift apart: both sides of each claim at each of its seeds. A side whose λ is
chosen (:data:`~csgbook.claims.CHOSEN`) needs its grid at the selection seed before its other
seeds can run at the chosen λ; ``--all-weights`` runs the other seeds at every λ of the grid
instead, so that one batch holds everything (a short GPU session), at the cost of runs no
table reads. Run it again after a batch: what is recorded is skipped, what the chosen λ now
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

from . import design
from .claims import CHOSEN, CLAIMS, resolve
from .experiments import SELECTION_SEED, weight_grid


def needed_runs(chapter: str, all_weights: bool = False, **common) -> list[Config]:
    """The runs of ``chapter``'s claims that are not recorded yet, in training order (λ grids first).

    ``common``: parameters every run gets (the chapter's own, e.g. ``device="cuda"``).
    """
    grids, rest = [], []
    for claim in CLAIMS:
        if claim.chapter != chapter or claim.setting is None:
            continue
        by_split = claim.setting_by_split or {None: {}}
        for side in [claim.setting | extra for extra in by_split.values()] + [claim.reference]:
            side = side | common
            if side.get("weight") != CHOSEN:
                rest += [side | {"seed": s} for s in claim.seeds]
                continue
            grid = weight_grid(side["method"], claim.grid)
            grids += [side | {"weight": w, "seed": SELECTION_SEED} for w in grid]
            chosen = resolve(side, grid)  # None until the grid is recorded
            weights = [chosen["weight"]] if chosen else list(grid) if all_weights else []
            rest += [side | {"weight": w, "seed": s} for w in weights for s in claim.seeds]
    runs, seen = [], set()
    for params in grids + rest:
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
        waiting = [c for c in next_runs() if c.run_name not in active and c.run_name not in codes and not locked(c)]
        while waiting and len(active) < parallel:
            cfg = waiting.pop(0)
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
