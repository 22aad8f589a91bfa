"""The speed benchmark runs end to end and reports what the README quotes (no timing is asserted)."""

import json

from csg.bench import main


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
    assert {
        "vanilla_s",
        "csg_s",
        "ratio",
        "csg_paper_attention_s",
        "ratio_paper_attention",
        "device",
        "forward_s",
        "floor",
        "floor_paper_attention",
    } <= set(printed)
    # a floor is a plain step plus 1 (or 2) no-grad forwards, as a multiple of the plain step
    assert abs(printed["floor"] - 1 - printed["forward_s"] / printed["vanilla_s"]) <= 0.02 * printed["floor"]
    assert printed["floor_paper_attention"] > printed["floor"] > 1
    assert printed["vanilla_s"] > 0 and printed["csg_s"] > 0
    # One repeat: the ratio is that of the pair (up to the rounding of the printed times).
    assert abs(printed["ratio"] - printed["csg_s"] / printed["vanilla_s"]) <= 0.02 * printed["ratio"]
