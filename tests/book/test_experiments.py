"""What a chapter calls to train: runs read when recorded, trained (data-parallel too) when not."""

import pytest
from data_fixtures import TINY

pytestmark = pytest.mark.slow  # trains or launches processes


def test_a_chapter_trains_through_torchrun_with_two_processes(tmp_path, monkeypatch):
    # experiments.run(gpus=2): torchrun --nproc_per_node 2 -m csg.train (gloo on a CPU), record read back
    from csgbook import experiments

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    params = TINY | dict(device="cpu", seed=7)
    path = experiments.record_path(experiments.config(**params))  # the smoke profile's own results folder
    assert not path.exists()
    rec = experiments.run(gpus=2, **params)
    assert path.exists() and rec["record"] == path.name
    assert rec["final"]["mnist"]["n"] == 32  # features gathered from both ranks


def test_a_chapter_trains_quietly_into_a_log(capsys):
    # per-epoch lines and progress bars are plumbing to a reader: they go to the run's log file
    from csgbook import experiments

    params = TINY | dict(device="cpu", seed=5)
    experiments.run(**params)
    shown = capsys.readouterr()
    assert shown.out == "" and shown.err == ""
    log = experiments.training_log(experiments.config(**params)).read_text()
    assert "epoch 1/" in log


def test_a_recorded_run_trained_again_never_replaces_its_record(tmp_path, monkeypatch):
    # its checkpoint lost, a chapter needing the model trains it again, into a scratch folder
    import shutil

    from csg.checkpoints import checkpoint_path
    from csgbook import experiments

    params = TINY | dict(device="cpu", seed=3)
    path = experiments.record_path(experiments.config(**params))
    experiments.run(**params)
    before = path.read_text()
    shutil.rmtree(checkpoint_path(experiments.config(**params)).parent)
    assert experiments.trained_model(**params) is not None
    assert path.read_text() == before
    monkeypatch.setenv(experiments.RECORDS_ONLY, "1")  # reading records only: a lost model is an error
    shutil.rmtree(checkpoint_path(experiments.config(**params)).parent)
    with pytest.raises(RuntimeError, match="no checkpoint"):
        experiments.trained_model(**params)
