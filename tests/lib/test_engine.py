"""The training engine on the offline benchmark (smoke sizes): every method, records,
determinism, resume after SIGKILL, bad parameters, and torchrun with 2 processes."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from data_fixtures import TINY

from csg import records, scaling
from csg.config import Config
from csg.engine import train
from csg.registry import METHODS


def same(a, b) -> bool:
    """Equal, NaN included (a class absent from a small split has NaN accuracy)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def run(tmp_path, **kw):
    return train(Config(**(TINY | dict(run_dir=str(tmp_path / "runs"), results_dir=str(tmp_path / "results")) | kw)))


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_every_method_trains_evaluates_and_writes_a_record(tmp_path, method):
    result = run(tmp_path, method=method)
    record = json.loads(result.record_path.read_text())
    assert record["config"]["method"] == method
    assert set(record["final"]) == {"synthetic_val", "mnist", "mnistm"}
    for split in record["final"].values():
        assert 0 <= split["score"] <= 1 and len(split["per_class"]) == 10
        assert set(split["hse"]) == {"s0", "s1", "s2", "zero_features"} and split["n"] == 32
    assert {"last_epoch", "best_on_synthetic_val", "best_on_target:mnist"} <= set(record["selection"])
    assert record["git_commit"] and record["device"] and record["versions"]["torch"] and record["wall_time_s"] > 0
    assert record["cpu"] == records.cpu_model() and record["cpu"]  # which processor, not only "x86_64 CPU"
    assert (tmp_path / "runs" / Config(**TINY, method=method).run_name / "checkpoint.pt").exists()


@pytest.mark.slow
def test_the_oracle_trains_only_its_head(tmp_path):
    from csg.backbones import build_backbone

    result = run(tmp_path, method="oracle")
    imagenet = build_backbone("efficientnet_lite0").state_dict()
    for k, v in result.model.backbone.state_dict().items():
        assert torch.equal(v, imagenet[k]), k


@pytest.mark.slow
def test_same_seed_same_numbers_and_another_seed_differs(tmp_path):
    a, b = run(tmp_path / "a"), run(tmp_path / "b")
    c = run(tmp_path / "c", seed=1)
    assert (
        same(a.record["final"], b.record["final"]) and a.record["history"][0]["loss"] == b.record["history"][0]["loss"]
    )
    assert c.record["history"][0]["loss"] != a.record["history"][0]["loss"]


@pytest.mark.slow
def test_resume_after_sigkill_mid_epoch_reaches_the_uninterrupted_result(tmp_path):
    cfg = TINY | dict(epochs=3, train_size=96, run_dir=str(tmp_path / "runs"), results_dir=str(tmp_path / "results"))
    args = [sys.executable, "-m", "csg.train"] + [f"--{k.replace('_', '-')}={v}" for k, v in cfg.items()]
    env = dict(os.environ)
    name = Config(**cfg).run_name
    ckpt = tmp_path / "runs" / name / "checkpoint.pt"
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not ckpt.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # epoch 1 is checkpointed; epoch 2 has just started
    proc.wait()
    assert ckpt.exists() and proc.returncode == -signal.SIGKILL
    assert torch.load(ckpt, weights_only=False)["epoch"] == 0  # killed before epoch 2 ended
    resumed = subprocess.run(args + ["--resume"], env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    interrupted = json.loads((tmp_path / "results" / f"{name}.json").read_text())
    straight = run(tmp_path / "straight", epochs=3, train_size=96).record
    assert same(interrupted["final"], straight["final"])
    assert [h["loss"] for h in interrupted["history"]] == [h["loss"] for h in straight["history"]]


@pytest.mark.slow
def test_resume_refuses_a_checkpoint_of_another_configuration(tmp_path):
    # Derived names differ whenever the configuration does; an explicit name can collide.
    run(tmp_path, name="mine")
    with pytest.raises(ValueError, match="another configuration"):
        run(tmp_path, name="mine", resume=True, lr=0.5)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(method="mixup"), "accepted: oracle, vanilla, weight_l2, si, feature_l2, asg, csg"),
        (
            dict(dataset="svhn"),
            "accepted: digits, digit_scenes, gta5, textured_scenes, textured_scenes_design, visda17",
        ),
        (dict(epochs=-1), "epochs must be an integer >= 0"),
        (dict(stages=(3, 5)), r"subset of \{1, 2, 3, 4\}"),
        (dict(patch_grid=4), "4x4 patch grid is larger than the 2x2 feature map"),
        (dict(arch="vgg"), "accepted: resnet50"),
        (dict(weight=-1.0), ">= 0"),
        (dict(magnitude="strong"), "magnitude must be 'auto', None or an integer in"),
        (dict(queue_size=0), "queue_size must be None"),
        (dict(pooling="max"), "accepted: a_pool, gap"),
        (dict(key_attention="query"), "accepted: student, teacher"),
        (dict(tau=0.0), "tau must be > 0"),
        (dict(ema_momentum=1.5), r"in \[0, 1\]"),
    ],
)
def test_bad_parameters_fail_before_training(tmp_path, kw, match):
    with pytest.raises(ValueError, match=match):
        run(tmp_path, **kw)
    assert not (tmp_path / "runs").exists()


def test_a_non_finite_loss_stops_the_run_naming_the_step_and_terms_and_records_it(tmp_path):
    with pytest.raises(FloatingPointError, match=r"epoch 1, iteration 0: task=.*reg="):
        run(tmp_path, method="feature_l2", weight=float("inf"))
    (path,) = (tmp_path / "results").glob("*.json")
    record = json.loads(path.read_text())
    assert "final" not in record and record["diverged"].startswith("non-finite loss at epoch 1")


def test_the_papers_protocol_augments_csg_only():
    from csg.backbones import build_backbone
    from csg.data import benchmark
    from csg.views import train_transform

    bench, backbone = (
        benchmark("digits", source_images=64, source_val_images=16),
        build_backbone("efficientnet_lite0", weights=None),
    )
    image = bench.dataset("train")[0][0]
    plain = train_transform(bench, Config(method="vanilla"), backbone)
    assert torch.equal(plain(image), plain(image))  # one deterministic view: resize + centre crop
    torch.manual_seed(0)
    views = [train_transform(bench, Config(method="csg"), backbone)(image) for _ in range(5)]
    assert any(not torch.equal(query, key) for query, key in views)  # two independent RandAugment views
    augmented = train_transform(bench, Config(method="vanilla", magnitude=6), backbone)
    assert torch.is_tensor(augmented(image))  # "baseline + RandAugment": one augmented view
    assert Config(method="vanilla").effective_magnitude is None and Config(method="csg").effective_magnitude == 6
    # the protocol's default given explicitly is the same run; another magnitude is another run
    assert Config(method="csg", magnitude=6).run_name == Config(method="csg").run_name
    assert Config(method="vanilla", magnitude=None).run_name == Config(method="vanilla").run_name
    assert Config(method="vanilla", magnitude=6).run_name != Config(method="vanilla").run_name


@pytest.mark.slow
def test_run_length_settings_are_scaled_unless_given(tmp_path):
    from csg.scaling import RunScale, scaled_settings

    record = run(tmp_path, method="csg", queue_size=None, warmup_iters=None).record
    assert record["settings"] == dataclasses.asdict(scaled_settings(RunScale(64, 16, 1), recipe=Config().recipe))
    literal = run(tmp_path, method="csg", queue_size=65536, ema_momentum=0.999, warmup_iters=100).record
    assert literal["settings"] == {"queue_size": 65536, "ema_momentum": 0.999, "warmup_iters": 100}


@pytest.mark.slow
def test_dense_csg_trains_segmentation_and_reports_miou(tmp_path):
    result = run(
        tmp_path,
        dataset="digit_scenes",
        source_images=96,
        source_val_images=32,
        target_images=64,
        method="csg",
        patch_grid=2,
        batch_size=4,
        train_size=8,
        eval_size=4,
        weight=1.0,
    )
    final = result.record["final"]["mnistm"]
    assert final["metric"] == "mean_iou" and len(final["per_class"]) == 11 and 0 <= final["score"] <= 1
    # The official DeepLab recipe: BatchNorm frozen whole in the backbone, ASPP rates scaled to the crop.
    model = result.model
    bn = [m for m in model.backbone.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert bn and not any(p.requires_grad for m in bn for p in m.parameters())
    aspp = model.head[0]
    rates = [branch[0].dilation[0] for branch in list(aspp.convs)[1:-1]]
    assert rates == list(scaling.aspp_rates(result.record["config"]["image_size"]))


def test_the_command_line_round_trips_a_config():
    from csg.train import command, parser

    cfg = Config(**TINY, method="csg", stages=(2, 3, 4), magnitude=None, weight=0.01, ema_momentum=0.5, resume=True)
    args = command(cfg)
    assert args[1:3] == ["-m", "csg.train"]
    assert Config(**vars(parser().parse_args(args[3:]))) == cfg
    assert command(cfg, gpus=4)[1:4] == ["-m", "torch.distributed.run", "--standalone"]


@pytest.mark.slow
def test_a_bad_command_line_parameter_is_one_line_not_a_traceback(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "csg.train", "--method", "mixup", "--results-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("python -m csg.train: error: unknown method 'mixup'")


def test_a_default_lambda_given_explicitly_is_the_same_run():
    assert Config(method="csg").run_name == Config(method="csg", weight=0.1).run_name
    assert (
        Config(method="csg", dataset="digit_scenes").run_name
        == Config(method="csg", dataset="digit_scenes", weight=75.0).run_name
    )
    assert Config(method="vanilla").run_name == Config(method="vanilla", weight=3.0).run_name
    assert Config(method="csg").run_name != Config(method="csg", weight=1.0).run_name
    assert Config(method="weight_l2").run_name != Config(method="weight_l2", weight=0.1).run_name


# The book finds its recorded runs by name. A refactor that changed any of these names would
# orphan every record under results/ (and retrain, or silently show nothing). These were trained
# with the book's first recipe and scored on 1,000 images per split.
FIRST_RECIPE = dict(recipe="book", final_eval_size=1000)
RECORDED = {
    "digits-csg-efficientnet_lite0-seed0-2849c3df": dict(method="csg", weight=0.1),
    "digits-csg-efficientnet_lite0-seed0-545e3235": dict(method="csg", weight=1.0),
    "digits-vanilla-efficientnet_lite0-seed3-b75debc8": dict(method="vanilla", seed=3),
    "digits-vanilla-efficientnet_lite0-seed1-744164be": dict(method="vanilla", magnitude=6, seed=1),
    "digits-oracle-efficientnet_lite0-seed0-aa17eb5b": dict(method="oracle"),
    "digits-csg-efficientnet_lite0-seed1-c1ce3939": dict(
        method="csg", magnitude=None, seed=1, train_size=2000, epochs=2
    ),
    "digits-csg-efficientnet_lite0-seed0-68d8e421": dict(method="csg", stages=(4,), train_size=2000, epochs=2),
    "digits-csg-efficientnet_lite0-seed1-001025bd": dict(
        method="csg", seed=1, queue_size=65536, ema_momentum=0.999, warmup_iters=100, train_size=2000, epochs=2
    ),
}


@pytest.mark.parametrize("name", RECORDED)
def test_recorded_runs_keep_their_names(name):
    from csg import records

    assert Config(**RECORDED[name], **FIRST_RECIPE).run_name == name
    assert (records.RESULTS_DIR / f"{name}.json").exists()


def _recorded_configs() -> dict:
    from csg import records

    return {f.stem: json.loads(f.read_text())["config"] for f in sorted(records.RESULTS_DIR.glob("*.json"))}


def test_every_record_is_found_under_the_name_its_configuration_gives():
    recorded = _recorded_configs()
    assert len(recorded) > 100
    assert {name: Config.from_record(c).run_name for name, c in recorded.items()} == {n: n for n in recorded}


def test_a_new_option_renames_no_record():
    # An option whose default changes nothing leaves every name where it is.
    Extended = dataclasses.make_dataclass("Extended", [("new_option", int, 0)], bases=(Config,))
    for name, c in _recorded_configs().items():
        assert Extended.from_record(c).run_name == name
    assert Extended(new_option=1).run_name != Extended().run_name == Config().run_name


def test_only_settings_that_differ_from_their_defaults_name_a_run():
    from csg.config import IDENTITY_VERSIONS

    version = IDENTITY_VERSIONS["classification"]
    assert Config().identity() == {"identity_version": version}
    assert Config(lr=Config().lr, epochs=3, device="cpu", run_dir="/x").identity() == Config().identity()
    assert Config(epochs=4).identity() == {"identity_version": version, "epochs": 4}
    assert Config(source_images=512).run_name != Config().run_name  # a smaller benchmark is another run


def test_each_task_has_its_own_identity_version():
    from csg.config import IDENTITY_VERSIONS

    seg = Config(dataset="textured_scenes")
    assert (
        seg.identity()["identity_version"] == IDENTITY_VERSIONS["segmentation"] != IDENTITY_VERSIONS["classification"]
    )
    # Table 1's records keep their names when segmentation's version moves
    assert Config(method="vanilla", train_split="real_train", train_size=None).run_name.endswith("-2b53fede")


@pytest.mark.slow
def test_a_new_method_is_one_class_and_its_registration(tmp_path):
    from csg import registry
    from csg.regularizers import Regularizer

    @registry.register_method("stage4_norm", "Stage-4 norm", default_weight=0.5)
    class Stage4Norm(Regularizer):  # a toy method: shrink the last stage's activations
        def forward(self, features):
            return features.student[-1].pow(2).mean()

    try:
        method = registry.get_method("stage4_norm")
        assert method.weight_grid == registry.DECADES and method.weight("classification") == 0.5
        record = run(tmp_path, method="stage4_norm").record
        assert record["history"][0]["loss"]["reg"] > 0
        assert Config(method="stage4_norm", weight=0.5).run_name == Config(method="stage4_norm").run_name
        with pytest.raises(ValueError, match="registered twice"):
            registry.register_method("stage4_norm", "again")(Stage4Norm)
    finally:
        registry.METHODS.pop("stage4_norm")


@pytest.mark.slow
def test_the_official_recipe_trains_with_its_settings(tmp_path):
    from csg.scaling import queue_ema_momentum

    settings = run(tmp_path, method="csg", recipe="official", warmup_iters=None).record["settings"]
    assert settings["warmup_iters"] == 100 and settings["queue_size"] == TINY["queue_size"]
    assert settings["ema_momentum"] == pytest.approx(queue_ema_momentum(TINY["queue_size"], TINY["batch_size"]))


def test_a_prior_runs_backbone_initialises_f_e_and_f_e_o(tmp_path):
    from csg.step import build_step, run_settings

    prior = run(tmp_path, method="vanilla", train_split="real_train")
    prior_name = Config.from_record(prior.record["config"]).run_name
    cfg = Config(**TINY | dict(method="csg", prior=prior_name, run_dir=str(tmp_path / "runs")))
    bench = cfg.benchmark()
    step = build_step(cfg, bench, torch.device("cpu"), run_settings(cfg, bench))
    trained = prior.model.backbone.state_dict()
    for name, value in step.model.backbone.state_dict().items():
        assert torch.equal(value, trained[name]), name
    for name, value in step.teacher.backbone.state_dict().items():
        assert torch.equal(value, trained[name]), name
    assert cfg.run_name != Config(**TINY | dict(method="csg")).run_name
    with pytest.raises(FileNotFoundError, match="prior 'nowhere': no checkpoint at"):
        build_step(dataclasses.replace(cfg, prior="nowhere"), bench, torch.device("cpu"), run_settings(cfg, bench))
