"""The evaluation: a subset's score from the final pass equals scoring that subset alone, and a
run scores every epoch on eval_size images and at the end on all final_eval_size ones."""

import json

import torch
from data_fixtures import TINY
from torch import nn
from torch.utils.data import DataLoader, Subset, TensorDataset

from csg.config import Config
from csg.engine import train
from csg.evaluation import evaluate
from csg.loaders import drawn, epoch_loader, eval_loader


class Pooled(nn.Module):
    """A classifier shaped like ours: (logits, [last-stage map])."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * 8 * 8, 3)

    def forward(self, x):
        return self.fc(x.flatten(1)), [x]


def test_a_subsets_score_within_the_final_pass_is_its_own_score():
    torch.manual_seed(0)
    model, images = Pooled(), torch.randn(40, 3, 8, 8)
    positions = drawn(len(images), 13, 0)
    with torch.no_grad():  # labels the model gets right outside the subset, random inside it
        labels = (model(images)[0].sigmoid() + model(images.flip(-1))[0].sigmoid()).argmax(1)
    labels[positions] = torch.randint(0, 3, (13,))
    data = TensorDataset(images, labels)
    full = evaluate(model, DataLoader(data, batch_size=6), "classification", 3, "cpu", within=positions)
    alone = evaluate(model, DataLoader(Subset(data, positions), batch_size=5), "classification", 3, "cpu")
    assert full["within"]["score"] == alone["score"] and full["within"]["per_class"] == alone["per_class"]
    assert full["score"] != alone["score"] and len(full["features"]) == 40


def test_a_run_scores_eval_size_images_every_epoch_and_all_final_ones_at_the_end(tmp_path):
    cfg = Config(**TINY | dict(method="vanilla", epochs=2, eval_size=8, final_eval_size=32, results_dir=str(tmp_path)))
    result = train(cfg)
    record = json.loads(result.record_path.read_text())
    assert {split: final["n"] for split, final in record["final"].items()} == {
        "synthetic_val": 32, "mnist": 32, "mnistm": 32,
    }  # fmt: skip
    # The last epoch's curve point is the score of the 8 images every epoch scores, not the 32's.
    bench, model = cfg.benchmark(), result.model
    for split in record["final"]:
        loader = epoch_loader(eval_loader(bench, cfg, model.backbone, split), cfg)
        assert len(loader.dataset) == 8
        again = evaluate(model, loader, bench.task, bench.num_classes, "cpu", features=False)
        assert record["history"][-1][split] == again["score"]


def test_a_record_older_than_an_option_gets_the_value_it_trained_with():
    old = {"method": "vanilla", "eval_size": 1000}  # written before ``recipe`` and ``final_eval_size``
    cfg = Config.from_record(old)
    assert (cfg.recipe, cfg.final_eval_size) == ("book", 1000)
    assert Config.from_record(old | {"recipe": "official", "final_eval_size": None}).recipe == "official"
