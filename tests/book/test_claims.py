"""Claims read the records of both sides, pair them by seed and apply the verdict rule."""

import json

import pytest

from csg import records
from csg.config import Config
from csg.records import record_path, write_json
from csg.registry import METHODS
from csgbook import claims, selection

CLAIM = claims.Claim(
    "CSG beats the baseline",
    "Table 1",
    "04_visda",
    dict(method="csg", weight=claims.CHOSEN),
    dict(method="vanilla"),
    (64.05, 49.3),
    seeds=(0, 1, 2),
)


def test_a_claim_waits_for_its_lambda_then_judges_paired_seeds(results):
    assert CLAIM.judge("mnistm")["verdict"] == "not run yet: selection incomplete"
    for w, val in zip(METHODS["csg"].weight_grid, (40, 45, 50, 42, 30)):  # 0.1 wins on synthetic_val
        for seed in selection.SELECTION_SEEDS:
            results(val, method="csg", weight=w, seed=seed)
    assert claims.resolve(dict(method="csg", weight=claims.CHOSEN)) == dict(method="csg", weight=0.1)
    assert CLAIM.judge("mnistm")["verdict"] == "not run yet"  # no evaluation seed has a run
    for s, (a, b) in enumerate([(50, 47), (51, 48), (49, 46.5)]):
        results(a, method="csg", weight=0.1, seed=s)
        results(b, method="vanilla", seed=s)
    j = CLAIM.judge("mnistm")
    assert j["n"] == 3 and j["difference"].mean == pytest.approx((3 + 3 + 2.5) / 3)
    assert j["verdict"] == "reproduced"
    assert claims.scorecard([CLAIM], splits=("mnistm",)).iloc[0]["verdict, mnistm"] == "reproduced"


def test_the_oracles_lr_is_chosen_whatever_the_chapters_lr_and_nothing_else_can_be(results):
    claim = next(c for c in claims.CLAIMS if c.setting["method"] == "oracle" and c.reference["method"] == "vanilla")
    for lr, val in zip(selection.ORACLE_LRS, (40, 60, 55, 10)):  # 0.01 wins on synthetic_val
        for seed in selection.SELECTION_SEEDS:
            results(val, method="oracle", seed=seed, **claims.TABLE1.run | {"lr": lr})
    oracle, baseline = claim.sides("mnistm", common={"lr": 0.5})
    assert (oracle["lr"], baseline["lr"]) == (0.01, 0.5)
    with pytest.raises(ValueError, match="vanilla's 'weight' cannot be 'chosen'.*nothing"):
        claims.resolve(dict(method="vanilla", weight=claims.CHOSEN))


def test_a_partial_claim_says_how_many_seeds_it_rests_on(results):
    results(50, method="oracle", seed=0)
    results(45, method="vanilla", seed=0)
    claim = claims.Claim(
        "x", "Table 1", "04_visda", dict(method="oracle"), dict(method="vanilla"), (53.3, 49.3), seeds=(0, 1, 2)
    )
    assert claim.judge("mnistm")["verdict"] == "inconclusive (1 of 3 seeds)"


def test_energy_claims_point_down(results):
    claim = claims.Claim(
        "lower energy",
        "Table 1",
        "04_visda",
        dict(method="oracle"),
        dict(method="vanilla"),
        (0.3188, 0.4245),
        seeds=(0, 1),
        metric="energy",
    )
    for s, (a, b) in enumerate([(0.30, 0.40), (0.31, 0.42)]):
        results(50, energy=a, method="oracle", seed=s)
        results(50, energy=b, method="vanilla", seed=s)
    assert claim.direction == -1 and claim.judge("mnistm")["verdict"] == "reproduced"


def test_a_measured_claim_reads_its_chapters_measurement(results, tmp_path, monkeypatch):
    from csgbook import experiments

    monkeypatch.setattr(experiments, "is_smoke", lambda: False)
    claim = claims.Claim(
        "maps on the digit", "Fig. 5", "06_attention", None, None, (1, 0), seeds=(0, 1, 2), measure="share"
    )
    assert claim.judge("mnistm")["verdict"] == "not run yet"
    experiments.save_measure(
        "share", {"mnistm": {"setting": {0: 30.0, 1: 31.0, 2: 29.5}, "reference": {0: 25.0, 1: 26.5, 2: 24.0}}}, runs={}
    )
    assert (tmp_path / "measures" / "share.json").exists()
    j = claim.judge("mnistm")
    assert j["n"] == 3 and j["difference"].mean == pytest.approx((5 + 4.5 + 5.5) / 3) and j["verdict"] == "reproduced"


def test_a_per_split_setting_pairs_each_target_with_its_own_real_model(results):
    # Sec. 2: on each target, the model fine-tuned on that target's real domain against the synthetic one.
    claim = claims.Claim(
        "real is more diverse",
        "Sec. 2",
        "01",
        dict(method="vanilla"),
        dict(method="vanilla"),
        (0.3355, 0.4408),
        seeds=(0, 1),
        metric="energy",
        setting_by_split={"mnistm": dict(train_split="real_train_mnistm")},
    )
    for s, (real, syn) in enumerate([(0.30, 0.40), (0.32, 0.41)]):
        results(50, energy=real, method="vanilla", train_split="real_train_mnistm", seed=s)
        results(50, energy=syn, method="vanilla", seed=s)
        results(50, energy=0.9, method="vanilla", train_split="real_train", seed=s)  # another domain: unused
    j = claim.judge("mnistm")
    assert j["difference"].mean == pytest.approx((-0.10 - 0.09) / 2) and j["verdict"] == "reproduced"
    assert claim.judge("mnist")["verdict"] == "not defined on mnist"


def test_segmentation_claims_choose_lambda_over_their_own_grid_on_their_own_target(results):
    table5 = next(c for c in claims.CLAIMS if c.source == "Table 5")
    scale = claims.SEGMENTATION_SCALE
    assert table5.judge("mnist")["verdict"] == "not defined on mnist"  # the scene benchmarks have one real target
    grid = sorted(claims.SEGMENTATION.weight_grid)
    for w, val in zip(grid, (30, 35, 20)):  # the middle one wins on synthetic_val
        for seed in selection.SELECTION_SEEDS:
            results(val, method="csg", weight=w, patch_grid=8, seed=seed, **scale)
    for s, (with_csg, without) in enumerate([(35, 30), (33, 31), (36, 30)]):
        results(with_csg, method="csg", weight=grid[1], patch_grid=8, seed=s, **scale)
        results(without, method="vanilla", seed=s, **scale)
    j = table5.judge("mnistm")
    assert j["n"] == 3 and j["setting"].mean == pytest.approx((35 + 33 + 36) / 3)
    energy = next(c for c in claims.CLAIMS if c.source == "Fig. 6")
    assert energy.direction == -1 and energy.judge("mnistm")["n"] == 3
    row = claims.scorecard([energy], splits=("mnistm",)).iloc[0]
    assert row["paper"] == "Fig. 6: lower, by eye"


def _full_record(score: float, n: int, splits, **params) -> None:
    """A standard record with its config and device, scoring ``n`` images on each of ``splits``."""
    final = {s: {"score": score / 100, "hse": {"s0": 0.5}, "n": n} for s in splits}
    rec = {"config": Config(**params).__dict__, "device": "x86_64 CPU, 1 threads", "final": final}
    (records.RESULTS_DIR / f"{Config(**params).run_name}.json").write_text(json.dumps(rec, default=list))


def _judged_pair(results):
    """Two judged claims on two targets: one reproduced everywhere, one not run (and undefined on mnist)."""
    for s, (a, b) in enumerate([(50, 47), (51, 48), (49, 46.5)]):
        for method, score in (("oracle", a), ("vanilla", b)):
            _full_record(
                score, 300, ("mnistm", "mnist"), method=method, seed=s, train_size=200, epochs=2, batch_size=32
            )
    scale = dict(train_size=200, epochs=2)
    done = claims.Claim(
        "oracle wins",
        "Table 1",
        "04_visda",
        dict(method="oracle", **scale),
        dict(method="vanilla", **scale),
        (2, 1),
        (0, 1, 2),
    )
    missing = claims.Claim(
        "dense wins", "Table 5", "07_segmentation", dict(method="csg"), dict(method="vanilla"), (2, 1), (0,),
        setting_by_split={"mnistm": {}}, score_unit="mIoU pts",
    )  # fmt: skip
    return [done, missing], claims.judged([done, missing])


def test_the_index_counts_verdicts_per_target_and_reads_the_limits_from_the_records(results):
    chosen, card = _judged_pair(results)
    counts = claims.verdict_counts(card)
    assert counts.loc["mnistm"].to_dict() == {"reproduced": 1, "contradicted": 0, "inconclusive": 0, "not run": 1}
    assert counts.loc["mnist"].to_dict() == {"reproduced": 1, "contradicted": 0, "inconclusive": 0, "not run": 0}
    limits = claims.benchmark_limits(chosen)
    assert limits["training images"] == "200" and limits["epochs"] == "2 (12 steps)"
    assert limits["seeds"] == "3 per claim" and limits["evaluation images"] == "300 per target"
    box = claims.verdict_box(card, limits).data
    assert "“oracle wins”" in box and "cost.html" in box and "1 thread." in box
    html = claims.scorecard_table(card).to_html()
    assert 'href="04_visda.html">4. ' in html and "csg-v-reproduced" in html and "csg-v-none" in html
    assert "mIoU pts" in html


def test_the_limits_read_each_record_on_the_target_its_claim_is_judged_on(results):
    # A segmentation run scores the scenes' one real target, never the digits' second one.
    scenes = dict(dataset="textured_scenes", train_size=200, epochs=2)
    for method in ("csg", "vanilla"):
        _full_record(40, 200, ("synthetic_val", "mnistm"), method=method, seed=0, **scenes)
    one_target = claims.Claim(
        "dense wins", "Table 5", "07_segmentation", dict(method="csg", **scenes), dict(method="vanilla", **scenes),
        (2, 1), (0,), setting_by_split={"mnistm": {}},
    )  # fmt: skip
    limits = claims.benchmark_limits([one_target])
    assert limits["evaluation images"] == "200 per target" and limits["image size"] == f"{Config().image_size} px"


def test_the_scorecard_gives_each_verdict_its_detectable_effect_and_holms_verdict(results):
    chosen, card = _judged_pair(results)
    tested = card[card["n"] >= 2]
    assert len(tested) and (tested["detectable"] > 0).all()
    # Holm is stricter: it keeps a verdict or makes it inconclusive, never the other way.
    assert ((tested["holm"] == tested["kind"]) | (tested["holm"] == "inconclusive")).all()
    assert (card.loc[card["kind"] == "not run", "holm"] == "not run").all()
    html = claims.scorecard_table(card).to_html()
    assert html.count("detectable: ≥") == len(tested)
    box = claims.verdict_box(card, claims.benchmark_limits(chosen)).data
    assert "After Holm's correction over all 2 judged claim–target pairs, 2 of the 2 reproductions" in box


def test_recorded_scores_read_a_runs_final_scores_or_say_it_is_missing(tmp_path):
    from csgbook import experiments

    params = dict(method="vanilla", seed=3, results_dir=str(tmp_path))
    assert experiments.recorded_scores(["synthetic_val"], **params) is None
    final = {"synthetic_val": {"score": 0.5}, "mnistm": {"score": 0.25}}
    write_json(record_path(Config(**params)), {"final": final})
    assert experiments.recorded_scores(["mnistm", "synthetic_val"], **params).to_dict() == {
        "mnistm": 25.0,
        "synthetic_val": 50.0,
    }
