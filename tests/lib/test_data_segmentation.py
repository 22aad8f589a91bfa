"""GTA5 and Cityscapes loaders on fixtures with the official layouts; joint transforms."""

import numpy as np
import pytest
import torch
from data_fixtures import CITYSCAPES_FRAMES, gta5_label_ids, make_cityscapes, make_gta5, save_palettised
from PIL import Image
from torchvision import tv_tensors
from torchvision.transforms import v2

from csg.data import (
    CITYSCAPES_CLASSES,
    GTA5,
    IGNORE_INDEX,
    Cityscapes,
    DatasetFormatError,
    DatasetNotFoundError,
    RandomScale,
    as_mask,
    label_ids_to_train_ids,
    segmentation_tensor_transform,
    segmentation_train_transform,
)

# ------------------------------------------------------------------ label mapping


def test_label_id_to_train_id_table():
    evaluated = [7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33]
    ids = np.arange(256, dtype=np.uint8)
    train_ids = label_ids_to_train_ids(ids)
    assert [int(train_ids[i]) for i in evaluated] == list(range(19))
    others = np.setdiff1d(ids, evaluated)
    assert (train_ids[others] == IGNORE_INDEX).all()
    assert len(CITYSCAPES_CLASSES) == 19 and CITYSCAPES_CLASSES[0] == "road"
    assert CITYSCAPES_CLASSES[13] == "car" and CITYSCAPES_CLASSES[18] == "bicycle"


# --------------------------------------------------------------------------- GTA5


@pytest.fixture
def gta5_root(tmp_path):
    return make_gta5(tmp_path / "gta5")


def test_gta5_reads_palette_indices_and_maps_to_train_ids(gta5_root):
    ds = GTA5(gta5_root)
    assert len(ds) == 3 and ds.num_classes == 19 and ds.ignore_index == 255
    image, mask = ds[1]
    assert image.mode == "RGB" and image.size == (14, 10)
    assert isinstance(mask, tv_tensors.Mask) and mask.dtype == torch.int64
    expected = label_ids_to_train_ids(gta5_label_ids(2))
    assert np.array_equal(mask.numpy(), expected)
    assert set(np.unique(expected)) == {0, 1, 2, 8, 10, 11, 13, 18, 255}
    # The fixture is a real palettised PNG: a greyscale conversion (what OpenCV's
    # IMREAD_GRAYSCALE does) gives other numbers than the IDs.
    with Image.open(gta5_root / "labels" / "00002.png") as raw:
        assert raw.mode == "P"
        assert not np.array_equal(np.asarray(raw.convert("L")), gta5_label_ids(2))


def test_gta5_split_list_forms_and_order(gta5_root):
    ds = GTA5(gta5_root, split_list=gta5_root / "train.txt")
    assert ds.names == ["00003.png", "00001.png"]
    assert np.array_equal(ds[0][1].numpy(), label_ids_to_train_ids(gta5_label_ids(3)))


def test_gta5_malformed_split_line(gta5_root):
    bad = gta5_root / "bad.txt"
    bad.write_text("00001\nframe_two\n")
    with pytest.raises(DatasetFormatError, match=r"bad.txt, line 2.*frame_two"):
        GTA5(gta5_root, split_list=bad)


def test_gta5_missing_split_list(gta5_root):
    with pytest.raises(DatasetNotFoundError, match="nope.txt"):
        GTA5(gta5_root, split_list=gta5_root / "nope.txt")


def test_gta5_missing_root_names_path_layout_and_source(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        GTA5(tmp_path / "absent")
    message = str(err.value)
    assert str(tmp_path / "absent") in message and "labels/NNNNN.png" in message
    assert "download.visinf.tu-darmstadt.de" in message


def test_gta5_missing_labels_folder(gta5_root):
    for f in (gta5_root / "labels").iterdir():
        f.unlink()
    (gta5_root / "labels").rmdir()
    with pytest.raises(DatasetNotFoundError, match="labels"):
        GTA5(gta5_root)


def test_gta5_missing_label_file_names_it(gta5_root):
    (gta5_root / "labels" / "00002.png").unlink()
    with pytest.raises(DatasetNotFoundError, match="00002.png"):
        GTA5(gta5_root)[1]


def test_gta5_colour_label_file_is_rejected(gta5_root):
    Image.new("RGB", (14, 10), (128, 64, 128)).save(gta5_root / "labels" / "00001.png")
    with pytest.raises(DatasetFormatError, match=r"00001.png.*mode 'RGB'"):
        GTA5(gta5_root)[0]


def test_gta5_unknown_ids_map_to_ignore_or_raise_when_strict(gta5_root):
    ids = gta5_label_ids(1)
    ids[0, 0] = 40
    save_palettised(gta5_root / "labels" / "00001.png", ids)
    assert GTA5(gta5_root)[0][1][0, 0] == IGNORE_INDEX
    with pytest.raises(DatasetFormatError, match=r"00001.png.*\[40\]"):
        GTA5(gta5_root, strict_labels=True)[0]


def test_gta5_size_mismatch(gta5_root):
    Image.new("RGB", (20, 12)).save(gta5_root / "images" / "00001.png")
    with pytest.raises(DatasetFormatError, match="00001.png.*20x12.*14x10"):
        GTA5(gta5_root, size_mismatch="error")[0]
    image, mask = GTA5(gta5_root)[0]  # default: the frame is resized to its labels
    assert image.size == (14, 10) and tuple(mask.shape) == (10, 14)
    assert np.array_equal(mask.numpy(), label_ids_to_train_ids(gta5_label_ids(1)))


def test_gta5_unreadable_image_names_it(gta5_root):
    (gta5_root / "images" / "00003.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(DatasetFormatError, match="00003.png"):
        GTA5(gta5_root)[2]


# --------------------------------------------------------------------- Cityscapes


def test_cityscapes_val_maps_label_ids(tmp_path):
    root = make_cityscapes(tmp_path / "cityscapes")
    ds = Cityscapes(root, split="val")
    assert len(ds) == len(CITYSCAPES_FRAMES["val"]) and ds.num_classes == 19
    image, mask = ds[2]
    assert image.mode == "RGB" and image.size == (16, 8)
    assert "lindau" in str(ds.samples[2][0])
    assert np.array_equal(mask.numpy(), label_ids_to_train_ids(gta5_label_ids(2, 8, 16)))
    assert len(Cityscapes(root, split="train")) == 1


def test_cityscapes_prefers_label_train_ids(tmp_path):
    root = make_cityscapes(tmp_path / "cityscapes", with_train_ids=True)
    _, mask = Cityscapes(root)[0]
    assert (mask == 5).all()


def test_cityscapes_rejects_bad_train_ids(tmp_path):
    root = make_cityscapes(tmp_path / "cityscapes", with_train_ids=True)
    city, stem = CITYSCAPES_FRAMES["val"][0]
    path = root / "gtFine" / "val" / city / f"{stem}_gtFine_labelTrainIds.png"
    Image.fromarray(np.full((8, 16), 19, np.uint8), mode="L").save(path)
    with pytest.raises(DatasetFormatError, match=r"labelTrainIds.png.*\[19\].*0..18 and 255"):
        Cityscapes(root)[0]


def test_cityscapes_missing_label_names_image_and_expected_label(tmp_path):
    root = make_cityscapes(tmp_path / "cityscapes")
    city, stem = CITYSCAPES_FRAMES["val"][1]
    (root / "gtFine" / "val" / city / f"{stem}_gtFine_labelIds.png").unlink()
    with pytest.raises(DatasetNotFoundError) as err:
        Cityscapes(root)
    assert f"{stem}_leftImg8bit.png" in str(err.value) and f"{stem}_gtFine_labelIds.png" in str(err.value)


def test_cityscapes_missing_root_and_bad_split(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        Cityscapes(tmp_path / "absent")
    assert str(tmp_path / "absent") in str(err.value) and "gtFine" in str(err.value)
    assert "cityscapes-dataset.com" in str(err.value)
    root = make_cityscapes(tmp_path / "cityscapes")
    with pytest.raises(ValueError, match="'train', 'val'"):
        Cityscapes(root, split="test")


def test_cityscapes_strict_labels(tmp_path):
    root = make_cityscapes(tmp_path / "cityscapes")
    city, stem = CITYSCAPES_FRAMES["val"][0]
    ids = gta5_label_ids(0, 8, 16)
    ids[3, 3] = 99
    Image.fromarray(ids, mode="L").save(root / "gtFine" / "val" / city / f"{stem}_gtFine_labelIds.png")
    assert Cityscapes(root)[0][1][3, 3] == IGNORE_INDEX
    with pytest.raises(DatasetFormatError, match=r"\[99\]"):
        Cityscapes(root, strict_labels=True)[0]


# ------------------------------------------------------------------ joint transforms

# Well separated block colours; black is reserved for padding.
BLOCK_COLORS = np.array(
    [
        [230, 25, 75],
        [60, 180, 75],
        [255, 225, 25],
        [0, 130, 200],
        [245, 130, 48],
        [145, 30, 180],
        [70, 240, 240],
        [240, 50, 230],
        [210, 245, 60],
        [250, 190, 212],
        [0, 128, 128],
        [220, 190, 255],
        [170, 110, 40],
        [255, 250, 200],
        [128, 0, 0],
        [170, 255, 195],
        [128, 128, 0],
        [255, 215, 180],
        [0, 0, 128],
    ],
    dtype=np.uint8,
)


def block_pair(height=96, width=160, block=16):
    """An image of coloured blocks and the label map holding each block's colour index."""
    ys, xs = np.mgrid[0:height, 0:width]
    labels = ((ys // block) * 7 + (xs // block) * 3) % len(BLOCK_COLORS)
    return Image.fromarray(BLOCK_COLORS[labels]), as_mask(labels)


def agreement(image, mask):
    """Fraction of labelled pixels whose colour is nearest to their label's colour, and
    whether every ignore (255) pixel is black padding."""
    pixels = np.asarray(image).astype(np.int32)
    labels = mask.numpy()
    valid = labels != IGNORE_INDEX
    distance = ((pixels[:, :, None, :] - BLOCK_COLORS[None, None].astype(np.int32)) ** 2).sum(-1)
    nearest = distance.argmin(-1)
    padding_is_black = (pixels[~valid] == 0).all()
    return (nearest[valid] == labels[valid]).mean(), padding_is_black, valid.mean()


def test_joint_transform_keeps_image_and_labels_aligned():
    torch.manual_seed(0)
    image, mask = block_pair()
    transform = segmentation_train_transform(crop_size=(112, 128))
    padded_seen = False
    for _ in range(30):
        out_image, out_mask = transform(image, mask)
        assert out_image.size == (128, 112) and tuple(out_mask.shape) == (112, 128)
        assert isinstance(out_mask, tv_tensors.Mask) and out_mask.dtype == torch.int64
        match, padding_is_black, valid_fraction = agreement(out_image, out_mask)
        assert match > 0.9, match  # only pixels blended at block edges may disagree
        assert padding_is_black
        padded_seen |= valid_fraction < 1.0
        assert set(np.unique(out_mask.numpy())) <= set(range(19)) | {255}
    assert padded_seen  # a scale < 1 made the crop larger than the frame at least once


def test_agreement_check_detects_misalignment():
    # The check above can fail: flipping only the image breaks it.
    image, mask = block_pair()
    flipped = image.transpose(Image.FLIP_LEFT_RIGHT)
    assert agreement(flipped, mask)[0] < 0.5


def test_random_scale_range_and_nearest_labels():
    torch.manual_seed(1)
    image, mask = block_pair(40, 40, 8)
    sizes = []
    for _ in range(20):
        out_image, out_mask = RandomScale((0.75, 1.25))(image, mask)
        assert out_image.size[::-1] == tuple(out_mask.shape)
        assert set(np.unique(out_mask.numpy())) <= set(np.unique(mask.numpy()))
        sizes.append(out_image.size[0])
    assert 30 <= min(sizes) < 40 < max(sizes) <= 50


def test_hflip_moves_labels_with_pixels():
    image, mask = block_pair()
    out_image, out_mask = v2.RandomHorizontalFlip(p=1.0)(image, mask)
    assert np.array_equal(out_mask.numpy(), mask.numpy()[:, ::-1])
    assert agreement(out_image, out_mask)[0] == 1.0


def test_tensor_transform_normalises_image_and_keeps_mask():
    image, mask = block_pair()
    tensor, out_mask = segmentation_tensor_transform()(image, mask)
    assert tensor.dtype == torch.float32 and tuple(tensor.shape) == (3, 96, 160)
    assert tensor.min() < 0 < tensor.max()
    assert out_mask.dtype == torch.int64 and torch.equal(out_mask, mask)


def test_gta5_with_joint_transform(tmp_path):
    root = make_gta5(tmp_path / "gta5")
    torch.manual_seed(0)
    ds = GTA5(root, transform=segmentation_train_transform(crop_size=12))
    image, mask = ds[0]
    assert image.size == (12, 12) and tuple(mask.shape) == (12, 12)
