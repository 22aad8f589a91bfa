"""The speed benchmark runs end to end and reports what the README quotes (no timing is asserted)."""

import json

import pytest
import torch

from csg.bench import main, make_steps


@pytest.mark.slow
def test_bench_prints_and_writes_its_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    main(
        [
            "--arch",
            "efficientnet_lite0",
            "--batch-size",
            "2",
            "--image-size",
            "32",
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--device",
            "cpu",
            "--out",
            str(out),
        ]
    )
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == json.loads(out.read_text())
    variants = ("csg", "csg_paper_attention")
    timed = {"vanilla_s", *(f"{v}_s" for v in variants), *(f"floor_{v}_s" for v in variants)}
    assert timed | {f"{k}_{v}" for k in ("ratio", "gap") for v in variants} | {"device"} <= set(printed)
    assert all(printed[k] > 0 for k in timed)
    # One repeat: each ratio, floor and gap is that of its one set of steps (up to rounding).
    for v in variants:
        plain, step, floor = printed["vanilla_s"], printed[f"{v}_s"], printed[f"floor_{v}_s"]
        assert abs(printed[f"ratio_{v}"] - step / plain) <= 0.02 * printed[f"ratio_{v}"]
        assert abs(printed[f"floor_{v}"] - floor / plain) <= 0.02 * printed[f"floor_{v}"]
        assert abs(printed[f"gap_{v}"] - (step - floor) / plain) <= 0.02 * printed[f"ratio_{v}"]
    # img/s of the default (paper) CSG step
    assert abs(printed["csg_img_per_s"] * printed["csg_paper_attention_s"] - 2) <= 0.01


@pytest.mark.slow
def test_a_floor_runs_the_forwards_its_variant_needs_and_adds_nothing():
    steps = make_steps("efficientnet_lite0", torch.device("cpu"), queue_size=16)
    query, key, target = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32), torch.tensor([0, 1])
    for variant, student_on_key in (("csg", False), ("csg_paper_attention", True)):
        floor = steps[f"floor_{variant}"]
        assert floor.regularizer.needs_teacher and floor.regularizer.needs_student_on_key == student_on_key
        assert steps[variant].regularizer.needs_student_on_key == student_on_key
        loss, _ = floor(query, key, target)
        plain, _ = steps["vanilla"](query, None, target)
        assert torch.equal(loss, plain)  # the same task loss: the floor's term is zero
