"""Run records: one reader and one writer, and a write that fails leaves the old record whole."""

import json

import pytest

from csg import records
from csg.config import Config


def test_a_record_reads_back_as_written_and_an_absent_one_as_none(tmp_path):
    cfg = Config(results_dir=str(tmp_path))
    assert records.read_record(cfg) is None
    records.write_record(cfg, {"final": {"mnistm": {"score": 0.5}}})
    assert records.read_record(cfg) == {"final": {"mnistm": {"score": 0.5}}}
    assert records.record_path(cfg).parent == tmp_path


def test_a_write_that_fails_midway_keeps_the_previous_record(tmp_path):
    path = tmp_path / "run.json"
    records.write_json(path, {"score": 1})

    def fail_midway(f):
        f.write(b'{"score": ')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        records._atomic_write(path, fail_midway)
    assert json.loads(path.read_text()) == {"score": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temporary file left behind
