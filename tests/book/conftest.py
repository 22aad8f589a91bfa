"""Fixtures of the book's tests."""

import json

import pytest

from csg import records
from csg.config import Config


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "RESULTS_DIR", tmp_path)

    def write(score, energy=0.5, **params):
        rec = {"final": {s: {"score": score / 100, "hse": {"s0": energy}} for s in ("synthetic_val", "mnistm")}}
        (tmp_path / f"{Config(**params).run_name}.json").write_text(json.dumps(rec))

    return write
