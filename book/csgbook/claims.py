"""The paper's claims as comparisons over seeds, judged by the rule of :mod:`csg.stats`.

A claim says that one setting scores higher (or, for energy, lower) than a reference
setting: "CSG beats the baseline", "A-pool beats average pooling". Each side is a set
of run parameters; the claim is judged on the runs recorded under ``results/`` for
every seed of the claim, by the paired difference of the two sides and its 95 %
interval. Nothing here trains: a claim whose runs are not all recorded says so.

A side's λ may be :data:`CHOSEN`: the λ its method gets by the book's one selection
rule, the best of its registered λ grid (csg.registry) on held-out *synthetic* images
at the selection seed (:func:`chosen_weight`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial

import pandas as pd

from csg import records
from csg.config import Config
from csg.data import BENCHMARKS
from csg.records import record_path
from csg.stats import Interval, mean_ci, paired_difference, verdict

from . import paper
from .experiments import REGULARIZED, SELECTION_SEED, best_weight, config, measures_dir, weight_grid
from .scales import STANDARD

CHOSEN = "chosen"
# The claims are judged on the chapters' standard runs (csgbook.scales).
TABLE1 = STANDARD["04_visda"]
ABLATIONS = STANDARD["05_ablations"]
MOTIVATING = STANDARD["01_motivating_example"]
SEGMENTATION = STANDARD["07_segmentation"]
MOTIVATING_SCALE = dict(method="vanilla", **MOTIVATING.run)
SEGMENTATION_SCALE = dict(dataset="digit_scenes", **SEGMENTATION.run)


def recorded(active_profile: bool = False, **params) -> dict | None:
    """The record of the run with these parameters, or None when it is not recorded.

    By default the standard run's record in ``results/``, whatever the profile (so the
    index's scorecard reads the same records in a test as on the site); with
    ``active_profile``, the run of the active profile (a chapter's own smoke runs).
    """
    path = record_path(config(**params) if active_profile else Config(**params))
    return json.loads(path.read_text()) if path.exists() else None


def chosen_weight(method: str, grid=None, active_profile: bool = False, **params) -> float | None:
    """λ of ``method`` chosen on synthetic_val over ``grid`` (None: the method's registered grid) at the
    selection seed (None: not all recorded)."""
    grid = weight_grid(method, grid)
    sweep = {w: recorded(active_profile, method=method, weight=w, **params | {"seed": SELECTION_SEED}) for w in grid}
    if any(r is None for r in sweep.values()):
        return None
    return best_weight(sweep)


def resolve(params: dict, grid=None, active_profile: bool = False) -> dict | None:
    """``params`` with a :data:`CHOSEN` λ replaced by the chosen value (None while the grid is incomplete)."""
    if params.get("weight") != CHOSEN:
        return params
    rest = {k: v for k, v in params.items() if k not in ("weight", "method")}
    weight = chosen_weight(params["method"], grid, active_profile, **rest)
    return None if weight is None else params | {"weight": weight}


def value(rec: dict, split: str, metric: str) -> float | None:
    """A run's number on ``split``: accuracy or mIoU in %, or the HSE (s = 0) of its features."""
    if "final" not in rec:  # diverged
        return None
    final = rec["final"][split]
    return final["score"] * 100 if metric == "score" else final["hse"]["s0"]


def per_seed(params: dict, seeds, split: str, metric: str = "score", active_profile: bool = False) -> dict[int, float]:
    """{seed: value} over the recorded, finished runs of one setting."""
    out = {}
    for s in seeds:
        rec = recorded(active_profile, **params | {"seed": s})
        v = None if rec is None else value(rec, split, metric)
        if v is not None:
            out[s] = v
    return out


@dataclass(frozen=True)
class Claim:
    """ "``setting`` scores higher than ``reference``" (lower, for energy), as the paper reports it."""

    text: str
    source: str  # where the paper says it: "Table 1", "Sec. 2"
    chapter: str  # the book's chapter that runs it
    setting: dict | None  # None: a claim measured by its chapter (``measure``), not read from run records
    reference: dict | None
    paper: tuple[float, float]  # the paper's numbers for (setting, reference)
    seeds: tuple[int, ...]
    metric: str = "score"  # "score": accuracy / mIoU (%); "energy": HSE s=0 (lower = more diverse)
    # A claim measured from trained models rather than read from their records: the name of the
    # measurement its chapter saves (csgbook.experiments.save_measure), {split: {side: {seed: value}}}.
    measure: str | None = None
    # Parameters of the setting that depend on the split judged, {split: params} (e.g. the real
    # training split of each target's own domain); a split missing here is not judged.
    setting_by_split: dict | None = None
    grid: tuple | None = None  # the λ grid a CHOSEN side is chosen over (None: the method's registered grid)
    effect: str | None = None  # the paper's effect in words, where it gives no number (a figure)

    @property
    def digits(self) -> int:
        """Decimals to print: energies differ in the third decimal, accuracies in the first."""
        return 4 if self.metric == "energy" else 2

    @property
    def direction(self) -> int:
        """+1 when the paper has the setting higher than the reference, -1 when lower."""
        return 1 if self.paper[0] > self.paper[1] else -1

    def judge(
        self, split: str, common: dict | None = None, seeds=None, grid=None, active_profile: bool = False
    ) -> dict:
        """Both sides' means with CIs, their paired difference and the verdict on ``split``.

        ``common`` sets run parameters of both sides (a chapter's dataset, scale...);
        ``seeds`` replaces the claim's seeds, ``grid`` the λ grid.
        """
        seeds = self.seeds if seeds is None else tuple(seeds)
        grid = self.grid if grid is None else grid
        if self.setting_by_split is not None and split not in self.setting_by_split:
            return {"n": 0, "verdict": f"not defined on {split}"}
        if self.measure is not None:
            path = (measures_dir() if active_profile else records.RESULTS_DIR / "measures") / f"{self.measure}.json"
            if not path.exists():
                return {"n": 0, "verdict": "not run yet"}
            values = json.loads(path.read_text())["values"].get(split, {})
            a, b = (
                {int(s): v for s, v in values.get(side, {}).items() if int(s) in seeds}
                for side in ("setting", "reference")
            )
        else:
            setting = self.setting | (self.setting_by_split or {}).get(split, {})
            # The chapter's parameters win over the claim's defaults (its scale, its dataset).
            sides = [resolve(p | (common or {}), grid, active_profile) for p in (setting, self.reference)]
            if None in sides:
                return {"n": 0, "verdict": "not run yet: λ grid incomplete"}
            a, b = (per_seed(p, seeds, split, self.metric, active_profile) for p in sides)
        diff = paired_difference(a, b)
        if diff.n == 0:
            return {"n": 0, "verdict": "not run yet"}
        out = {
            "setting": mean_ci(list(a.values())),
            "reference": mean_ci(list(b.values())),
            "difference": diff,
            "n": diff.n,
            "verdict": verdict(diff, self.direction),
        }
        if diff.n < len(seeds):
            out["verdict"] += f" ({diff.n} of {len(seeds)} seeds)"
        return out


def _table1(method: str, reference: str) -> Claim:
    names = paper.METHOD_NAMES
    side = lambda m: dict(method=m, weight=CHOSEN) if m in REGULARIZED else dict(method=m)
    return Claim(
        f"{names[method]} beats {names[reference]}",
        "Table 1",
        "04_visda",
        side(method),
        side(reference),
        (paper.TABLE1[method]["acc"], paper.TABLE1[reference]["acc"]),
        TABLE1.seeds,
    )


def _ablation(text, source, setting, reference, numbers) -> Claim:
    base = dict(method="csg", **ABLATIONS.run)
    return Claim(text, source, "05_ablations", base | setting, base | reference, numbers, ABLATIONS.seeds)


def _segmentation(text, source, numbers, **kw) -> Claim:
    # Only the benchmark's real target ("mnistm", real digits on photographs) is judged.
    return Claim(
        text,
        source,
        "07_segmentation",
        dict(method="csg", weight=CHOSEN, patch_grid=8, **SEGMENTATION_SCALE),
        dict(method="vanilla", **SEGMENTATION_SCALE),
        numbers,
        SEGMENTATION.seeds,
        setting_by_split={"mnistm": {}},
        grid=SEGMENTATION.weight_grid,
        **kw,
    )


CLAIMS = (
    _table1("csg", "vanilla"),
    *(_table1("csg", m) for m in ("oracle", "weight_l2", "si", "feature_l2", "asg")),
    *(_table1(m, "vanilla") for m in ("oracle", "weight_l2", "si", "feature_l2", "asg")),
    Claim(
        "CSG's features are more diverse than the baseline's (lower energy)",
        "Table 1",
        "04_visda",
        dict(method="csg", weight=CHOSEN),
        dict(method="vanilla"),
        (paper.TABLE1["csg"]["s0"], paper.TABLE1["vanilla"]["s0"]),
        TABLE1.seeds,
        metric="energy",
    ),
    # The oracle's backbone is ImageNet's, untouched: its features are the ImageNet model's.
    Claim(
        "Synthetic training makes features less diverse than ImageNet's (higher energy)",
        "Sec. 2",
        "04_visda",
        dict(method="vanilla"),
        dict(method="oracle"),
        (paper.MOTIVATING_HSE["synthetic"], paper.MOTIVATING_HSE["imagenet"]),
        TABLE1.seeds,
        metric="energy",
    ),
    # Each target against a model fine-tuned on real images of its own domain.
    Claim(
        "Real training keeps features more diverse than synthetic training (lower energy)",
        "Sec. 2",
        "01_motivating_example",
        MOTIVATING_SCALE,
        MOTIVATING_SCALE,
        (paper.MOTIVATING_HSE["real"], paper.MOTIVATING_HSE["synthetic"]),
        MOTIVATING.seeds,
        metric="energy",
        setting_by_split={t: dict(train_split=s) for t, s in BENCHMARKS["digits"].real_train.items()},
    ),
    _ablation(
        "RandAugment (M = 6) helps CSG",
        "Table 2",
        dict(magnitude=6),
        dict(magnitude=None),
        (paper.TABLE2[6], paper.TABLE2[0]),
    ),
    _ablation(
        "Layers {3, 4} beat layer 4 alone",
        "Table 3",
        dict(stages=(3, 4)),
        dict(stages=(4,)),
        (paper.TABLE3[(3, 4)], paper.TABLE3[(4,)]),
    ),
    _ablation(
        "A-pool beats global average pooling",
        "Table 4",
        dict(pooling="a_pool"),
        dict(pooling="gap"),
        (paper.TABLE4["a_pool"], paper.TABLE4["gap"]),
    ),
    Claim(
        "CSG's Grad-CAM maps lie more on the digit than the baseline's (% of the map)",
        "Fig. 5",
        "06_attention",
        None,
        None,
        (1, 0),
        STANDARD["06_attention"].seeds,
        measure="stroke_share-digits",
        effect="higher, by eye",
    ),
    _segmentation(
        "Dense CSG beats no adaptation on the real segmentation target (mIoU)",
        "Table 5",
        paper.TABLE5[("resnet50", "CSG")][::-1],  # (with CSG, no adaptation)
    ),
    _segmentation(
        "Dense CSG's features on the real target are more diverse than the baseline's (lower energy)",
        "Fig. 6",
        (0, 1),
        metric="energy",
        effect="lower, by eye",
    ),
    # The ImageNet model is not trained: its energy is measured in chapter 07, the same for every seed.
    Claim(
        "Synthetic segmentation training makes real-target features less diverse than ImageNet's",
        "Sec. 4.2.2",
        "07_segmentation",
        None,
        None,
        (1, 0),
        SEGMENTATION.seeds,
        metric="energy",
        measure="segmentation_energy-digit_scenes",
        setting_by_split={"mnistm": {}},
        effect="higher, by eye",
    ),
)


def scorecard(claims=CLAIMS, splits=("mnistm", "mnist")) -> pd.DataFrame:
    """One row per claim: the paper's effect, ours (paired difference ± 95 % CI) and the verdict per split."""
    rows = []
    for c in claims:
        unit = "" if c.metric == "energy" else " pts"
        effect = c.effect or f"{c.paper[0]:g} vs {c.paper[1]:g} ({c.paper[0] - c.paper[1]:+.4g}{unit})"
        row = {"claim": c.text, "paper": f"{c.source}: {effect}"}
        for split in splits:
            j = c.judge(split)
            row[f"ours, {split}"] = j["difference"].format(True, c.digits) if "difference" in j else "—"
            row[f"verdict, {split}"] = j["verdict"]
        row["chapter"] = c.chapter
        rows.append(row)
    return pd.DataFrame(rows)


def _formatted(judged: dict, key: str, signed: bool = False, digits: int = 2) -> str:
    return judged[key].format(signed, digits) if key in judged else "—"


def claim_table(claims, splits, **judge) -> pd.DataFrame:
    """Like :func:`scorecard`, with both sides' means ± CI, for a chapter's own claims;
    ``judge`` goes to :meth:`Claim.judge` (the chapter's parameters, seeds, grid, profile)."""
    rows = []
    for c in claims:
        for split in splits:
            j = c.judge(split, **judge)
            fmt = partial(_formatted, j, digits=c.digits)
            rows.append(
                {
                    "claim": c.text,
                    "split": split,
                    "setting": fmt("setting"),
                    "reference": fmt("reference"),
                    "difference": fmt("difference", True),
                    "seeds": j["n"],
                    "verdict": j["verdict"],
                }
            )
    return pd.DataFrame(rows).set_index(["claim", "split"])


def verdicts(where: str, splits, **judge):
    """:func:`claim_table` of the claims one chapter ("04_visda") or one table of the paper
    ("Table 2") holds, judged at the active profile, verdicts in bold."""
    chosen = [c for c in CLAIMS if where in (c.chapter, c.source)]
    table = claim_table(chosen, splits, active_profile=True, **judge)
    return table.style.set_properties(subset=["verdict"], **{"font-weight": "bold"})


__all__ = [
    "CHOSEN",
    "CLAIMS",
    "MOTIVATING_SCALE",
    "Claim",
    "Interval",
    "chosen_weight",
    "claim_table",
    "per_seed",
    "recorded",
    "resolve",
    "scorecard",
    "verdicts",
]
