"""Table 1's design, declared before its runs (issue 19): the pilot, how each method's
hyper-parameter is chosen, and how many seeds the verdicts get.

Every run uses the engine's defaults: the official recipe (its SGD, its 100-step quadratic
warm-up, m from the queue's span) and the final scores on every held-out image (5,000
synthetic, and the same 4,000 real digits on both targets).

1. **Pilot.** The baseline and CSG at the paper's λ = 0.1, at the pilot seeds.
2. **Selection.** The book's one rule (:mod:`csgbook.selection`): each regularised method's
   λ on :data:`~csg.registry.DECADES`, each candidate trained at the selection seeds and
   scored by its mean synthetic_val accuracy over them, the grid extended a decade past an
   edge while the best sits there; the oracle's learning rate the same way on
   :data:`~csgbook.selection.ORACLE_LRS`. Selection seeds are never evaluation seeds; no
   real image is looked at.
3. **Seeds.** The paired differences of the pilot (CSG minus the baseline, per pilot seed)
   give their spread on each target; the evaluation seeds are the fewest that detect a
   difference of :data:`TARGET_EFFECT` points with power 0.8 by the book's two-sided test
   (``csg.stats.seeds_needed``, statsmodels), on the target that needs more, at most
   :data:`MAX_SEEDS`. That spread stands in for every Table 1 comparison.
4. **Verdicts.** The book's rule (``csg.stats``), each with its minimum detectable effect,
   and Holm's correction over the scorecard.
5. **Positive control** (a check of the mechanism, not a claim of the paper). A prior that
   fits the target: the ImageNet backbone fine-tuned on the 1,000 ``real_train`` digits
   (disjoint from every evaluation image) by the baseline's recipe and number of steps, then f_e's
   initialisation and f_e,o (``Config.prior``). First the premise (the oracle on that prior
   against the baseline from it), then the baseline, the oracle, CSG and feature-l2 from it,
   each at Table 1's chosen value, over the first :data:`CONTROL_SEEDS_MAX` evaluation seeds.
6. **Ablations at Table 1's scale** (Tables 2-4, and m): the same CSG that Table 1 judges (its
   chosen λ, the official recipe, every held-out image) with one setting changed at a time
   (:data:`ABLATIONS`), over Table 1's evaluation seeds. The paper's ablation effects
   (0.3-2 points) are below what those seeds can detect: each verdict shows how far below.
   The EMA momentum's values are reported on both targets; the one that scores best on
   synthetic_val is named, never one chosen on a target.

``python -m csgbook.design`` prints where the design stands and, once the pilot is recorded,
writes its power analysis to ``results/table1/power.json``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import numpy as np
import pandas as pd

from csg import records
from csg.config import Config
from csg.records import read_record
from csg.runtime import resolve_device
from csg.stats import detectable_effect, mean_ci, seeds_needed

from .selection import SELECTION_SEEDS, select, tuned

METHODS = ("oracle", "vanilla", "weight_l2", "si", "feature_l2", "asg", "csg")
PILOT_SEEDS = (100, 101, 102)
PILOT_WEIGHT = 0.1  # CSG's λ in the paper's Table 1
TARGET_EFFECT = 3.0  # accuracy points
MAX_SEEDS = 20  # what the CPU budget allows (about 12 hours for Table 1)
TARGETS = ("mnistm", "mnist")
# The prior trains for as many steps as Table 1's baseline (12 epochs of the 1,000 real_train digits
# in batches of 32: 372 steps, against 375), not for its 3 epochs: those are 93 steps, all inside the
# 100-step warm-up, and left the backbone within a median 5e-5 of ImageNet's weights (relative; a
# baseline's 375 steps move it by 7.5e-4), so the control's first runs (prior ...-2b53fede, kept
# in results/) tested ImageNet's backbone again.
PRIOR = dict(method="vanilla", train_split="real_train", train_size=None, epochs=12, seed=0)
CONTROL_METHODS = ("vanilla", "oracle", "csg", "feature_l2")
CONTROL_SEEDS_MAX = 10
# One setting changed at a time from Table 1's CSG: Table 2 (M), Table 3 (layers), Table 4
# (pooling), the key attention, and m (the rule gives 0.962 at Table 1's scale).
ABLATIONS = {
    "no augmentation": dict(magnitude=None),
    "layer 4 only": dict(stages=(4,)),
    "global average pooling": dict(pooling="gap"),
    "key attention from f_e,o": dict(key_attention="teacher"),
    **{f"m = {m:g}": dict(ema_momentum=m) for m in (0.0, 0.9, 0.99, 0.999)},
}
POWER_RECORD = records.RESULTS_DIR / "table1" / "power.json"


def recorded(**params) -> dict | None:
    """The record of the run these parameters describe (engine defaults otherwise), or None."""
    return read_record(Config(**params))


def pilot_differences(fetch: Callable[..., dict | None] = recorded) -> dict[str, list[float]] | None:
    """CSG minus the baseline (points) per pilot seed on each target; None until the pilot is recorded."""
    pairs = [(fetch(method="csg", weight=PILOT_WEIGHT, seed=s), fetch(method="vanilla", seed=s)) for s in PILOT_SEEDS]
    if any(r is None for pair in pairs for r in pair):
        return None
    return {t: [100 * (a["final"][t]["score"] - b["final"][t]["score"]) for a, b in pairs] for t in TARGETS}


def evaluation_seeds(differences: dict[str, list[float]]) -> int:
    """Seeds for the verdicts: the fewest detecting TARGET_EFFECT on every target, at most MAX_SEEDS."""
    return min(MAX_SEEDS, max(seeds_needed(np.std(d, ddof=1), TARGET_EFFECT) for d in differences.values()))


def power_analysis(fetch: Callable[..., dict | None] = recorded) -> dict | None:
    """The pilot's spread, the seeds it calls for, and the effect those seeds can detect."""
    differences = pilot_differences(fetch)
    if differences is None:
        return None
    n = evaluation_seeds(differences)
    by_target = {}
    for t, d in differences.items():
        sd = float(np.std(d, ddof=1))
        spread = mean_ci(d)
        by_target[t] = {
            "differences": d,
            "sd": sd,
            "seeds_for_target_effect": seeds_needed(sd, TARGET_EFFECT),
            "detectable_with_chosen_seeds": detectable_effect(sd, n),
            "pilot_interval": [spread.low, spread.high],
        }
    return {
        "target_effect": TARGET_EFFECT, "max_seeds": MAX_SEEDS, "seeds": n, "targets": by_target,
        "cost": cost(n, fetch),
    }  # fmt: skip


def power_table(analysis: dict | None = None) -> pd.DataFrame:
    """The pilot's power analysis (:func:`power_analysis`; None: its record), one row per target."""
    analysis = analysis or json.loads(POWER_RECORD.read_text())
    n, effect = analysis["seeds"], analysis["target_effect"]
    rows = {
        target: {
            "pilot differences, CSG − baseline (pts)": ", ".join(f"{d:+.2f}" for d in t["differences"]),
            "SD (pts)": t["sd"],
            f"seeds to detect {effect:g} pts": t["seeds_for_target_effect"],
            f"detectable with {n} seeds (pts)": t["detectable_with_chosen_seeds"],
        }
        for target, t in analysis["targets"].items()
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def cost(seeds: int, fetch: Callable[..., dict | None] = recorded) -> dict:
    """What the design costs in runs and CPU hours, at the pilot's mean wall time per run."""
    pilot = [fetch(method=m, seed=s) for s in PILOT_SEEDS for m in ("csg", "vanilla")]
    per_run = float(np.mean([r["wall_time_s"] for r in pilot]))
    selection = sum(len(tuned(m)[1]) * len(SELECTION_SEEDS) for m in METHODS if tuned(m))
    evaluation = (len(METHODS) + 1) * seeds  # + the baseline with RandAugment
    control = 1 + len(CONTROL_METHODS) * min(seeds, CONTROL_SEEDS_MAX)
    runs = {"pilot": len(pilot), "selection (before any extension)": selection, "evaluation": evaluation,
            "positive control": control, "ablations": len(ABLATIONS) * seeds}  # fmt: skip
    return {"runs": runs, "pilot_mean_wall_time_s": per_run, "cpu_hours": per_run * sum(runs.values()) / 3600}


def needed_runs(fetch: Callable[..., dict | None] = recorded) -> list[dict]:
    """The design's runs not recorded yet, in its order: the pilot, each method's selection
    (CSG's first), then every method at its chosen value over the evaluation seeds (once the
    pilot has fixed how many), then the positive control. Run again after a batch: what was
    recorded unlocks what follows."""
    pilot = [dict(method=m, seed=s) for s in PILOT_SEEDS for m in ("csg", "vanilla")]
    runs = [p for p in pilot if fetch(**p) is None]
    analysis = power_analysis(fetch)
    for method in sorted(METHODS, key=lambda m: m != "csg"):
        if tuned(method):
            runs += select(method, fetch).missing
        setting = chosen_setting(method, fetch)
        if setting is None or analysis is None:
            continue
        settings = [setting] + ([dict(method="vanilla", magnitude=6)] if method == "vanilla" else [])
        runs += [p | {"seed": s} for p in settings for s in range(analysis["seeds"]) if fetch(**p, seed=s) is None]
    if analysis is not None and not runs:  # Table 1 first, then the control, then the ablations
        runs = control_runs(analysis["seeds"], fetch) or ablation_runs(analysis["seeds"], fetch)
    return runs


def ablation_runs(seeds: int, fetch: Callable[..., dict | None] = recorded) -> list[dict]:
    """The ablations' runs not recorded yet: Table 1's CSG with each of :data:`ABLATIONS`."""
    base = chosen_setting("csg", fetch)
    return [
        base | change | {"seed": s}
        for change in ABLATIONS.values()
        for s in range(seeds)
        if fetch(**base | change, seed=s) is None
    ]


CONTROL_ABSENT = (
    "The positive control is not in this execution: it runs on the digits benchmark, with each of its "
    "methods in `methods`, when `control` is on; at the standard profile it is shown once all its runs "
    "are recorded (`python -m csgbook.sweep table1` trains them)."
)


def control_runs_on(dataset: str, methods) -> bool:
    """Whether a chapter with this benchmark and these methods can run the positive control: its
    prior trains on the digits' ``real_train`` split, each control method at its chosen value."""
    return dataset == "digits" and set(CONTROL_METHODS) <= set(methods)


def prior_name() -> str:
    """The run name of the control's prior (its checkpoint, under runs/, is what the control loads)."""
    return Config(**PRIOR).run_name


def chosen_setting(method: str, fetch: Callable[..., dict | None] = recorded) -> dict | None:
    """``method`` at its chosen hyper-parameter (None while the selection is incomplete)."""
    if not tuned(method):
        return dict(method=method)
    chosen = select(method, fetch)
    return None if chosen.chosen is None else {"method": method, chosen.parameter: chosen.chosen}


def prior_trained() -> bool:
    """Whether the prior's checkpoint is on this machine (``runs/`` is not part of the repository)."""
    return records.checkpoint_path(None, prior_name()).exists()


def control_runs(seeds: int, fetch: Callable[..., dict | None] = recorded) -> list[dict]:
    """The positive control's runs not recorded yet: its prior, then each control method from it.

    A prior that is recorded but whose checkpoint is gone (a new machine) is trained again
    before the runs that load it; the same seed on the same device gives the same weights.
    """
    if fetch(**PRIOR) is None:
        return [PRIOR]
    runs = []
    for method in CONTROL_METHODS:
        setting = chosen_setting(method, fetch)
        if setting is not None:
            setting |= {"prior": prior_name()}
            runs += [
                setting | {"seed": s} for s in range(min(seeds, CONTROL_SEEDS_MAX)) if fetch(**setting, seed=s) is None
            ]
    return [PRIOR] if runs and not prior_trained() else runs


def main() -> None:
    analysis = power_analysis()
    if analysis is None:
        missing = [s for s in PILOT_SEEDS for m in ("csg", "vanilla") if recorded(method=m, seed=s) is None]
        sys.exit(f"the pilot is not recorded yet: {len(missing)} of {2 * len(PILOT_SEEDS)} runs missing")
    records.write_json(POWER_RECORD, analysis | records.provenance(resolve_device("cpu")))
    print(json.dumps(analysis, indent=1))


if __name__ == "__main__":
    main()
