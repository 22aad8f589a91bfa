"""Backbones: stage taps, offline ImageNet weights, clear errors."""

import urllib.error

import pytest
import torch
import torchvision
from PIL import Image
from skimage import data as skdata
from torchvision.models import ResNet50_Weights
from torchvision.transforms import functional as TF

from csg.backbones import build_backbone

IMAGENET_CLASSES = ResNet50_Weights.IMAGENET1K_V1.meta["categories"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "arch, channels", [("efficientnet_lite0", (24, 40, 112, 1280)), ("resnet50", (256, 512, 1024, 2048))]
)
@pytest.mark.parametrize("output_stride", [32, 8])
def test_four_stage_groups_with_their_strides(arch, channels, output_stride):
    net = build_backbone(arch, weights=None, output_stride=output_stride).eval()
    with torch.no_grad():
        out = net(torch.randn(1, 3, 64, 64))
    assert net.channels == channels
    # feature_info describes the maps the backbone returns: widths and input pixels per cell
    assert [(f["num_chs"], f["reduction"]) for f in net.feature_info] == [(m.shape[1], 64 // m.shape[2]) for m in out]
    strides = [4, 8, 16, 32] if output_stride == 32 else [4, 8, 8, 8]
    assert [tuple(m.shape[1:]) for m in out] == [(c, 64 // s, 64 // s) for c, s in zip(channels, strides)]
    with torch.no_grad():
        assert len(net(torch.randn(1, 3, 64, 64), upto=2)) == 2


def test_features_only_ends_stage_4_at_the_last_block_as_a_dense_head_reads_it():
    full = build_backbone("efficientnet_lite0", output_stride=8).eval()
    dense = build_backbone("efficientnet_lite0", output_stride=8, features_only=True).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        maps, last_block = dense(x), full.stages[3][:2](full(x, upto=3)[-1])
    assert dense.channels == (24, 40, 112, 320) and maps[-1].shape == (2, 320, 8, 8)
    torch.testing.assert_close(maps[-1], last_block)  # the same ImageNet weights, conv_head left out
    assert dense.imagenet_classifier is None  # it reads conv_head's 1280 features
    assert build_backbone("resnet50", weights=None, features_only=True).channels[-1] == 2048  # no head conv


def test_a_segmenter_reads_the_last_block_and_a_classifier_the_head_conv():
    from csg.config import Config
    from csg.step import build_model

    def width(**params):
        cfg = Config(image_size=64, **params)
        return build_model(cfg, cfg.benchmark()).backbone.num_features

    assert width(dataset="textured_scenes") == 320 and width(dataset="digits") == 1280


def test_offline_efficientnet_lite0_weights_classify_a_real_photo():
    net = build_backbone("efficientnet_lite0").eval()
    cat = Image.fromarray(skdata.chelsea())  # scikit-image's photo of a tabby cat
    x = TF.normalize(TF.to_tensor(TF.center_crop(TF.resize(cat, 256), 224)), net.mean, net.std)[None]
    with torch.no_grad():
        logits = net.imagenet_classifier(net(x)[-1].mean(dim=(2, 3)))
    top3 = [IMAGENET_CLASSES[i] for i in logits.topk(3).indices[0]]
    assert {"tabby", "tiger cat", "Egyptian cat"} & set(top3), top3


def test_resnet_without_cached_weights_raises_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    # Simulate a machine without network even where one exists.
    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", offline)
    with pytest.raises(RuntimeError, match=r"resnet101.*not in torchvision's cache.*checkpoints.*weights=<path"):
        build_backbone("resnet101")


def test_resnet_loads_weights_from_a_file(tmp_path):
    ref = torchvision.models.resnet50()
    torch.save(ref.state_dict(), tmp_path / "w.pth")
    net = build_backbone("resnet50", weights=tmp_path / "w.pth")
    torch.testing.assert_close(net.stem[0].weight, ref.conv1.weight)
    assert net.imagenet_classifier is not None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(arch="vgg16"), "resnet50, resnet101, efficientnet_lite0"),
        (dict(arch="resnet50", output_stride=4), r"\(8, 16, 32\)"),
        (dict(arch="resnet50", weights="nowhere.pth"), "'imagenet', None or a path"),
    ],
)
def test_bad_backbone_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_backbone(**kwargs)


def test_bad_stage_request():
    net = build_backbone("efficientnet_lite0", weights=None)
    with pytest.raises(ValueError, match=r"subset of \{1, 2, 3, 4\}"):
        net(torch.randn(1, 3, 32, 32), upto=5)
