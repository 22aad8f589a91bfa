"""VisDA17 loader on a fixture with the official layout."""

import runpy
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import VISDA_FIXTURE, make_visda
from PIL import Image

from csg.data import VISDA_CLASSES, DatasetFormatError, DatasetNotFoundError, VisDA17


@pytest.fixture
def visda_root(tmp_path):
    return make_visda(tmp_path / "visda17")


def test_lengths_labels_and_classes(visda_root):
    for split, entries in VISDA_FIXTURE.items():
        ds = VisDA17(visda_root, split="train_full" if split == "train" else split)
        assert len(ds) == len(entries)
        assert [ds[i][1] for i in range(len(ds))] == [label for _, label, _ in entries]
        assert ds.targets == [label for _, label, _ in entries]
    assert VisDA17.num_classes == 12
    assert VISDA_CLASSES[0] == "aeroplane" and VISDA_CLASSES[11] == "truck"
    assert VISDA_CLASSES.index("person") == 7


def test_images_are_rgb_even_when_the_file_is_greyscale(visda_root):
    ds = VisDA17(visda_root, split="train_full")
    with Image.open(visda_root / "train" / VISDA_FIXTURE["train"][2][0]) as raw:
        assert raw.mode == "L"  # the fixture really stores a greyscale file
    image, _ = ds[2]
    assert image.mode == "RGB" and image.size == (16, 12)
    array = np.asarray(image)
    assert (array[..., 0] == array[..., 1]).all()


def test_held_out_renders_partition_the_official_train_split(visda_root):
    full, fit, held = (VisDA17(visda_root, split=s).samples for s in ("train_full", "train", "synthetic_val"))
    assert len(held) >= 1 and sorted(fit + held) == sorted(full) and not set(fit) & set(held)
    assert VisDA17(visda_root, split="synthetic_val").samples == held  # the same draw every time
    # at VisDA-17's size: 2 % of 152,397 renders, drawn once with a fixed seed
    from csg.data.visda import held_out_indices

    idx = held_out_indices(152_397)
    assert len(idx) == 3048 and idx == held_out_indices(152_397) and len(set(idx)) == 3048


def test_transform_applies_to_the_image(visda_root):
    ds = VisDA17(visda_root, split="validation", transform=lambda im: im.size)
    assert ds[0] == ((16, 12), 0)


def test_missing_root_names_path_layout_and_source(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DatasetNotFoundError) as err:
        VisDA17(missing)
    message = str(err.value)
    assert str(missing) in message and "image_list.txt" in message and "visda-2017" in message


def test_missing_list_file(visda_root):
    (visda_root / "train" / "image_list.txt").unlink()
    with pytest.raises(DatasetNotFoundError, match="image_list.txt"):
        VisDA17(visda_root, split="train")


@pytest.mark.parametrize(
    "bad_line, expected",
    [
        ("aeroplane/x.png", "2 fields"),
        ("aeroplane/x.png 0 extra", "2 fields"),
        ("aeroplane/x.png zero", "not an integer"),
        ("aeroplane/x.png 12", "out of range"),
        ("aeroplane/x.png -1", "out of range"),
    ],
)
def test_malformed_list_line_names_file_and_line(visda_root, bad_line, expected):
    list_file = visda_root / "train" / "image_list.txt"
    lines = list_file.read_text().splitlines()
    lines.insert(1, "")  # blank lines are tolerated and still counted
    lines.insert(2, bad_line)
    list_file.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetFormatError) as err:
        VisDA17(visda_root, split="train")
    assert f"{list_file}, line 3" in str(err.value) and expected in str(err.value)


def test_missing_image_names_the_file(visda_root):
    rel = VISDA_FIXTURE["validation"][1][0]
    (visda_root / "validation" / rel).unlink()
    ds = VisDA17(visda_root, split="validation")
    ds[0]  # the others still load
    with pytest.raises(DatasetNotFoundError, match=rel.split("/")[-1]):
        ds[1]


def test_unreadable_image_names_the_file(visda_root):
    rel = VISDA_FIXTURE["train"][0][0]
    (visda_root / "train" / rel).write_bytes(b"not a png")
    with pytest.raises(DatasetFormatError, match=rel.split("/")[-1]):
        VisDA17(visda_root, split="train")[0]


def test_unknown_split_lists_accepted(visda_root):
    with pytest.raises(ValueError, match="validation"):
        VisDA17(visda_root, split="test")


def test_pipeline_bench_reads_its_tree_through_the_training_loader():
    """data/pipeline_bench.py runs end to end (no timing is asserted)."""
    bench = runpy.run_path(str(Path(__file__).parents[2] / "data" / "pipeline_bench.py"))
    result = bench["run"](n=40, size=32, repeats=1)  # 39 training renders after the held-out 2 %: one batch
    assert len(result["pipeline_img_per_s"]) == len(result["decode_img_per_s"]) == 1
    assert result["pipeline_img_per_s"][0] > 0 and result["threads"] == 1
