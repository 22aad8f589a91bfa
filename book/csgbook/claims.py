"""The paper's claims as comparisons over seeds, judged by the rule of :mod:`csg.stats`.

A claim says that one setting scores higher (or, for energy, lower) than a reference
setting: "CSG beats the baseline", "A-pool beats average pooling". Each side is a set
of run parameters; the claim is judged on the runs recorded under ``results/`` for
every seed of the claim, by the paired difference of the two sides and its 95 %
interval. Nothing here trains: a claim whose runs are not all recorded says so.

A side's λ (the oracle's: its learning rate) may be :data:`CHOSEN`: the value its method
gets by the book's one selection rule (:mod:`csgbook.selection`), on held-out *synthetic*
images at the selection seeds, never a real target.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from csg import records
from csg.config import Config
from csg.data import BENCHMARKS
from csg.records import read_record
from csg.scaling import PAPER_SCALE, RunScale
from csg.stats import Interval, holm_verdicts, mean_ci, paired_difference, verdict

from . import design, paper, selection
from .experiments import config, measures_dir
from .scales import STANDARD

CHOSEN = "chosen"
# A run that departs from Table 1's setting in one of these (a positive-control run's prior, an
# ablation's one change: csgbook.design) takes the value chosen for Table 1's setting.
CHOICE_IGNORES = ("prior", *sorted({k for change in design.ABLATIONS.values() for k in change}))
CONTROL_SOURCE = "Positive control"
# The claims are judged on the chapters' standard runs (csgbook.scales).
TABLE1 = STANDARD["04_visda"]
ABLATIONS = STANDARD["05_ablations"]
MOTIVATING = STANDARD["01_motivating_example"]
SEGMENTATION = STANDARD["07_segmentation"]
MOTIVATING_SCALE = dict(method="vanilla", **MOTIVATING.run)
SEGMENTATION_DATASET = "textured_scenes"  # issue 20's benchmark (chapter 07's default)
SEGMENTATION_SCALE = dict(dataset=SEGMENTATION_DATASET, **SEGMENTATION.run)


def recorded(active_profile: bool = False, **params) -> dict | None:
    """The record of the run with these parameters, or None when it is not recorded.

    By default the standard run's record in ``results/``, whatever the profile (so the
    index's scorecard reads the same records in a test as on the site); with
    ``active_profile``, the run of the active profile (a chapter's own smoke runs).
    """
    return read_record(config(**params) if active_profile else Config(**params))


def resolve(params: dict, grid=None, active_profile: bool = False) -> dict | None:
    """``params`` with a :data:`CHOSEN` value replaced by the one the selection rule gives, a λ from
    ``grid`` (None: the method's own); None while its candidates are not all recorded."""
    parameter = next((k for k, v in params.items() if v == CHOSEN), None)
    if parameter is None:
        return params
    tuned = selection.tuned(params["method"])
    if tuned is None or tuned[0] != parameter:
        accepted = f"its {tuned[0]!r}" if tuned else "nothing of it"
        problem = f"{params['method']}'s {parameter!r} cannot be {CHOSEN!r}"
        raise ValueError(f"{problem}: the selection rule chooses {accepted}")
    rest = {k: v for k, v in params.items() if k not in (parameter, "method", "seed", *CHOICE_IGNORES)}
    chosen = selection.select(params["method"], partial(recorded, active_profile), grid, **rest).chosen
    return None if chosen is None else params | {parameter: chosen}


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
    metric: str = "score"  # "score": accuracy / mIoU (%); "energy": Eq. 1's energy at s = 0 (lower = more diverse)
    # A claim measured from trained models rather than read from their records: the name of the
    # measurement its chapter saves (csgbook.experiments.save_measure), {split: {side: {seed: value}}}.
    measure: str | None = None
    # Parameters of the setting that depend on the split judged, {split: params} (e.g. the real
    # training split of each target's own domain); a split missing here is not judged.
    setting_by_split: dict | None = None
    grid: tuple | None = None  # the λ grid a CHOSEN side is chosen over (None: the method's registered grid)
    effect: str | None = None  # the paper's effect in words, where it gives no number (a figure)
    score_unit: str = "accuracy pts"  # what a "score" claim's difference is in (energy: see ``unit``)

    @property
    def digits(self) -> int:
        """Decimals to print: energies differ in the third decimal, accuracies in the first."""
        return 4 if self.metric == "energy" else 2

    @property
    def direction(self) -> int:
        """+1 when the paper has the setting higher than the reference, -1 when lower."""
        return 1 if self.paper[0] > self.paper[1] else -1

    @property
    def unit(self) -> str:
        """What the paired difference is measured in."""
        return "energy (s = 0)" if self.metric == "energy" else self.score_unit

    @property
    def group(self) -> str:
        """The scorecard's group of rows: the part of the paper the claim tests."""
        if self.source == CONTROL_SOURCE:
            return "Positive control (a check of the mechanism, not a claim of the paper)"
        if self.chapter == "07_segmentation":
            return "Segmentation (Sec. 4.2)"
        if self.metric == "energy":
            return "Feature diversity (Sec. 2, Table 1)"
        return {"04_visda": "Table 1", "05_ablations": "Ablations (Tables 2–4)"}.get(self.chapter, self.source)

    def sides(self, split: str, common: dict | None = None, grid=None, active_profile: bool = False):
        """The run parameters of (setting, reference) on ``split``, chosen values resolved (None while
        a selection is incomplete); the chapter's parameters ``common`` win over the claim's, except
        a value the claim has chosen (the oracle's lr is chosen, whatever the chapter's lr)."""
        grid = self.grid if grid is None else grid
        sides = [resolve(p, grid, active_profile) for p in self.unresolved_sides(split, common)]
        return None if None in sides else sides

    def unresolved_sides(self, split: str, common: dict | None = None) -> list[dict]:
        """:meth:`sides` before the chosen values are resolved."""
        setting = self.setting | (self.setting_by_split or {}).get(split, {})
        return [p | (common or {}) | {k: v for k, v in p.items() if v == CHOSEN} for p in (setting, self.reference)]

    def records(self, split: str) -> list[dict]:
        """The standard records both sides of the claim are judged on (none for a measured claim)."""
        if self.setting is None or (self.setting_by_split is not None and split not in self.setting_by_split):
            return []
        sides = self.sides(split) or []
        found = (recorded(**p | {"seed": s}) for p in sides for s in self.seeds)
        return [r for r in found if r is not None and "final" in r]

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
            sides = self.sides(split, common, grid, active_profile)
            if sides is None:
                return {"n": 0, "verdict": "not run yet: selection incomplete"}
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


def _table1_side(method: str) -> dict:
    """A Table 1 run of ``method``: chapter 04's scale, its λ (the oracle: its lr) chosen."""
    tuned = selection.tuned(method)
    return dict(method=method, **TABLE1.run) | ({tuned[0]: CHOSEN} if tuned else {})


def _table1(method: str, reference: str) -> Claim:
    names = paper.METHOD_NAMES
    return Claim(
        f"{names[method]} beats {names[reference]}",
        "Table 1",
        "04_visda",
        _table1_side(method),
        _table1_side(reference),
        (paper.TABLE1[method]["acc"], paper.TABLE1[reference]["acc"]),
        TABLE1.seeds,
    )


def _control(method: str, text: str) -> Claim:
    """A positive-control claim: from a prior that fits the target (csgbook.design), ``method`` at its
    Table 1 value beats the baseline trained from the same prior."""
    prior = {"prior": design.prior_name()}
    seeds = TABLE1.seeds[: design.CONTROL_SEEDS_MAX]
    setting, reference = _table1_side(method) | prior, _table1_side("vanilla") | prior
    return Claim(text, CONTROL_SOURCE, "04_visda", setting, reference, (1, 0), seeds, effect="higher, expected")


def _ablation(text: str, source: str, ablation: str, numbers: tuple[float, float]) -> Claim:
    """An ablation claim: Table 1's CSG, at its chosen λ, beats itself with one setting changed
    (``ablation``, a key of :data:`csgbook.design.ABLATIONS`)."""
    table1_csg = _table1_side("csg")
    changed = table1_csg | design.ABLATIONS[ablation]
    return Claim(text, source, "05_ablations", table1_csg, changed, numbers, ABLATIONS.seeds)


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
        score_unit="mIoU pts",
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
        _table1_side("csg"),
        _table1_side("vanilla"),
        (paper.TABLE1["csg"]["s0"], paper.TABLE1["vanilla"]["s0"]),
        TABLE1.seeds,
        metric="energy",
    ),
    # The oracle's backbone is ImageNet's, untouched: its features are the ImageNet model's.
    Claim(
        "Synthetic training makes features less diverse than ImageNet's (higher energy)",
        "Sec. 2",
        "04_visda",
        _table1_side("vanilla"),
        _table1_side("oracle"),
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
    _ablation("RandAugment (M = 6) helps CSG", "Table 2", "no augmentation", (paper.TABLE2[6], paper.TABLE2[0])),
    _ablation(
        "Layers {3, 4} beat layer 4 alone", "Table 3", "layer 4 only", (paper.TABLE3[(3, 4)], paper.TABLE3[(4,)])
    ),
    _ablation(
        "A-pool beats global average pooling",
        "Table 4",
        "global average pooling",
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
        score_unit="map-share pts",
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
        measure=f"segmentation_energy-{SEGMENTATION_DATASET}",
        setting_by_split={"mnistm": {}},
        effect="higher, by eye",
    ),
)


# Not claims of the paper: a check of its mechanism from a prior that fits the target. Judged
# (and Holm-corrected) apart from the paper's claims, so that they never count among them.
CONTROL = (
    _control("oracle", "The premise: from a prior that fits the target, the frozen prior beats fine-tuning it"),
    _control("csg", "From that prior, CSG beats the baseline"),
    _control("feature_l2", "From that prior, feature-l2 beats the baseline"),
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
    """Like :func:`scorecard`, with both sides' means ± CI and the minimum detectable effect
    of the seeds (power 0.8), for a chapter's own claims;
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
                    "detectable": f"{j['difference'].detectable():.{c.digits}f}" if j["n"] >= 2 else "—",
                    "seeds": j["n"],
                    "verdict": j["verdict"],
                }
            )
    return pd.DataFrame(rows).set_index(["claim", "split"])


def verdicts(where: str, splits, claims=CLAIMS, **judge):
    """:func:`claim_table` of the ``claims`` one chapter ("04_visda") or one table of the paper
    ("Table 2") holds, judged at the active profile, verdicts in bold."""
    chosen = [c for c in claims if where in (c.chapter, c.source)]
    table = claim_table(chosen, splits, active_profile=True, **judge)
    return table.style.set_properties(subset=["verdict"], **{"font-weight": "bold"})


# The index: what the verdicts add up to, the scorecard and the benchmark's limits, from the records.

TARGETS = {"mnistm": "photographic target", "mnist": "handwritten target"}
VERDICT_KINDS = ("reproduced", "contradicted", "inconclusive", "not run")
BOOK = Path(__file__).resolve().parent.parent


def verdict_kind(text: str) -> str | None:
    """A verdict's kind, one of :data:`VERDICT_KINDS` (None: the claim is not defined on the split)."""
    if text.startswith("not defined"):
        return None
    return "not run" if text.startswith("not run") else text.split(" ")[0]


def judged(claims=CLAIMS, splits=tuple(TARGETS)) -> pd.DataFrame:
    """Every claim judged on every split from the standard records: one row each, with the paper's
    effect, ours (paired difference and its 95 % CI), the verdict and its kind."""
    rows, differences, directions = [], [], []
    for c in claims:
        for split in splits:
            j = c.judge(split)
            d = j.get("difference", Interval(*[float("nan")] * 3, 0))
            paper_effect = c.paper[0] - c.paper[1]
            rows.append(
                dict(
                    group=c.group, claim=c.text, source=c.source, unit=c.unit, chapter=c.chapter, split=split,
                    paper=c.effect or f"{paper_effect:+.4g}", paper_effect=None if c.effect else paper_effect,
                    ours=d.format(True, c.digits), mean=d.mean, low=d.low, high=d.high, n=j["n"],
                    detectable=d.detectable(), digits=c.digits, verdict=j["verdict"], kind=verdict_kind(j["verdict"]),
                )
            )  # fmt: skip
            differences.append(d)
            directions.append(c.direction)
    card = pd.DataFrame(rows)
    # Holm's correction over every claim judged on every target (csg.stats); not run stays not run.
    holm = holm_verdicts(differences, directions)
    card["holm"] = [h if kind in ("reproduced", "contradicted", "inconclusive") else kind
                    for h, kind in zip(holm, card["kind"])]  # fmt: skip
    return card


def verdict_counts(card: pd.DataFrame) -> pd.DataFrame:
    """How many claims got each verdict kind, per target (rows) of :func:`judged`'s table."""
    counts = pd.crosstab(card["split"], card["kind"]).reindex(columns=list(VERDICT_KINDS), fill_value=0)
    return counts.reindex([s for s in TARGETS if s in counts.index])


def chapter_records(chapter: str) -> list[dict]:
    """The standard records the claims of ``chapter`` are judged on, each once."""
    found = {}
    for claim in CLAIMS:
        if claim.chapter == chapter:
            for rec in (r for split in TARGETS for r in claim.records(split)):
                found[json.dumps(rec["config"], sort_keys=True)] = rec
    return list(found.values())


def _span(values, fmt="{:,}") -> str:
    low, high = min(values), max(values)
    return fmt.format(low) if low == high else f"{fmt.format(low)}–{fmt.format(high)}"


def benchmark_limits(claims=CLAIMS, splits=tuple(TARGETS)) -> dict[str, str]:
    """What the judged claims' standard runs were, read from their records: backbone, image size,
    training images, epochs and steps, seeds, evaluation images per target, device."""
    # Each claim's records with the target they were judged on: a scene benchmark's records
    # score its one target only.
    per_claim = [(s, c.records(s)) for c in claims for s in splits]
    judged_on = [(r, s) for s, found in per_claim for r in found]
    recs = [r for r, _ in judged_on]
    cfgs = [r["config"] for r in recs]
    steps = [RunScale(c["train_size"], c["batch_size"], c["epochs"]).steps for c in cfgs]
    seeds_per_claim = [len({r["config"]["seed"] for r in found}) for _, found in per_claim]
    return {
        "backbone": ", ".join(sorted({c["arch"] for c in cfgs})),
        "image size": _span([c["image_size"] for c in cfgs], "{} px"),
        "training images": _span([c["train_size"] for c in cfgs]),
        "epochs": f"{_span([c['epochs'] for c in cfgs])} ({_span(steps)} steps)",
        "batch": _span([c["batch_size"] for c in cfgs]),
        "seeds": f"{_span([n for n in seeds_per_claim if n])} per claim",
        "evaluation images": f"{_span([r['final'][s]['n'] for r, s in judged_on])} per target",
        "device": ", ".join(sorted({r["device"] for r in recs})),
    }


def chapter_link(chapter: str) -> str:
    """A chapter as the sidebar names it, linked: "4. Table 1: CSG against the baselines"."""
    cells = json.loads((BOOK / f"{chapter}.ipynb").read_text())["cells"]
    title = next(line for c in cells for line in "".join(c["source"]).splitlines() if line.startswith("# "))
    return f'<a href="{chapter}.html">{int(chapter[:2])}. {title[2:].strip()}</a>'


def chip(kind: str, text: str | None = None) -> str:
    """A verdict's label in its colour (book/_static/csg.css)."""
    return f'<span class="csg-v csg-v-{kind.replace(" ", "-")}">{text or kind}</span>'


def _reproduced(card: pd.DataFrame, split: str) -> str:
    """The claims reproduced on ``split``, in words: a whole group by its name, others quoted."""
    on = card[card["split"] == split]
    parts = []
    for group, rows in on.groupby("group", sort=False):
        done = rows[rows["kind"] == "reproduced"]["claim"]
        if len(done) == len(rows) > 1:
            parts.append(f"all {len(done)} claims of “{group}”")
        else:
            parts += [f"“{c}”" for c in done]
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else (parts or ["none"])[0]


def _after_holm(card: pd.DataFrame) -> str:
    """What Holm's correction over every judged (claim, target) pair leaves, in one sentence."""
    judged_ = card[card["kind"].isin(["reproduced", "contradicted", "inconclusive"])]
    kept = {k: (judged_["holm"] == k).sum() for k in ("reproduced", "contradicted")}
    before = {k: (judged_["kind"] == k).sum() for k in ("reproduced", "contradicted")}
    return (
        f"After Holm's correction over all {len(judged_)} judged claim–target pairs, "
        f"{kept['reproduced']} of the {before['reproduced']} reproductions and {kept['contradicted']} of the "
        f"{before['contradicted']} contradictions stand. Each cell of the scorecard gives the smallest effect "
        "its seeds could detect (power 0.8): a smaller true effect would read as inconclusive."
    )


def verdict_box(card: pd.DataFrame, limits: dict, cost: str = "cost.html"):
    """The index's opening box, from :func:`judged`'s table and :func:`benchmark_limits`: the
    verdicts per target and the benchmark's limits (both in a phone's first screen), then the
    headline claim, what reproduced, and what Holm's correction leaves."""
    from IPython.display import HTML

    counts, first = verdict_counts(card), card.iloc[0]
    n, (t0, t1) = card["claim"].nunique(), list(counts.index)
    heads = "".join(f"<th>{TARGETS[t]}<br>({t})</th>" for t in counts.index)
    cell = lambda k: "".join(
        f"<td class='csg-v csg-v-{k.replace(' ', '-')}'>{counts.at[t, k]}</td>" for t in counts.index
    )
    rows = "".join(f"<tr><th>{k}</th>{cell(k)}</tr>" for k in VERDICT_KINDS)
    table = f"<table class='csg-counts'><tr><th></th>{heads}</tr>{rows}</table>"
    head = card[card["claim"] == first["claim"]].set_index("split")
    limit = " · ".join(f"{k}: {v}" for k, v in limits.items()).replace(" 1 threads", " 1 thread")
    full = PAPER_SCALE
    scale = f"{paper.TABLE1_SETUP}, {full.train_images:,} images × {full.epochs} epochs ({full.steps:,} steps)"
    return HTML(
        f'<div class="csg-verdict" id="verdict"><p class="csg-verdict-title">The verdicts on the paper\'s {n} claims, '
        f"from the run records</p>{table}"
        f'<p class="csg-limits"><strong>The benchmark</strong> (the paper: {scale}): {limit}. '
        f"At this scale a verdict judges an effect's direction, not its size. <a href=\"{cost}\">What the paper's "
        "scale costs</a>.</p>"
        f"<p>The paper's headline, “{first['claim']}” ({first['source']}: {first['paper']} {first['unit']}), "
        f"is {chip(head.at[t0, 'kind'], head.at[t0, 'verdict'])} on the {TARGETS[t0]} ({head.at[t0, 'ours']}) and "
        f"{chip(head.at[t1, 'kind'], head.at[t1, 'verdict'])} on "
        f"the {TARGETS[t1]} ({head.at[t1, 'ours']}). Reproduced on the {TARGETS[t0]}, the one closest to "
        f"VisDA-17's real images: {_reproduced(card, t0)}.</p><p>{_after_holm(card)}</p></div>"
    )


def _scorecard_cell(row) -> str:
    """One target's cell of the scorecard: ours ± CI over the verdict, the smallest effect the
    seeds could see, and the verdict after Holm's correction when it differs."""
    if not row["n"] or row["n"] < 2:
        return f"{row['ours']}<br><small>{row['verdict']}</small>"
    holm = f"; Holm: {row['holm']}" if row["holm"] != row["kind"] else ""
    return (
        f"{row['ours']}<br><small>{row['verdict']}{holm}<br>detectable: ≥ {row['detectable']:.{row['digits']}f}</small>"
    )


def scorecard_table(card: pd.DataFrame):
    """:func:`judged`'s table as the index shows it: rows grouped by the part of the paper they test;
    on each target ours (difference ± 95 % CI) over its verdict (with Holm's where it differs) and
    the minimum detectable effect of its seeds, in the verdict's colour; the unit,
    the paper's effect, and the chapter that runs the claim, linked."""
    keys = ["group", "claim"]
    about = card.drop_duplicates("claim").set_index(keys)
    kind = card.fillna({"kind": "none"}).pivot(index=keys, columns="split", values="kind")
    ours = card.assign(cell=card.apply(_scorecard_cell, axis=1))
    ours = ours.pivot(index=keys, columns="split", values="cell")
    targets = {t: f"{TARGETS.get(t, t)} ({t})" for t in card["split"].unique()}
    table = ours.reindex(about.index)[list(targets)].rename(columns=targets)
    table = table.assign(unit=about["unit"], paper=about["source"] + ": " + about["paper"], chapter=about["chapter"])
    classes = pd.DataFrame("", index=table.index, columns=table.columns)
    for t, name in targets.items():
        classes[name] = "csg-v csg-v-" + kind[t].str.replace(" ", "-")
    legend = "Verdicts: " + " ".join(chip(k) for k in VERDICT_KINDS)
    styled = table.style.set_td_classes(classes).format(chapter_link, subset=["chapter"])
    styled = styled.set_uuid("scorecard").set_table_attributes('class="csg-scorecard"')
    return styled.set_caption(legend).hide(names=True)


__all__ = [
    "CHOSEN",
    "CLAIMS",
    "CONTROL",
    "MOTIVATING_SCALE",
    "TARGETS",
    "VERDICT_KINDS",
    "Claim",
    "Interval",
    "benchmark_limits",
    "chapter_link",
    "chapter_records",
    "chip",
    "claim_table",
    "judged",
    "per_seed",
    "recorded",
    "resolve",
    "scorecard",
    "scorecard_table",
    "verdict_box",
    "verdict_counts",
    "verdict_kind",
    "verdicts",
]
