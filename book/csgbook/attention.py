"""Where a classifier looks (Fig. 5): Grad-CAM through ``pytorch-grad-cam``, and how much
of it falls on the object.

The paper shows Grad-CAM {Selvaraju et al., 2017} maps of the baseline and of CSG on
real images and reads them by eye. On the offline digits benchmark the object's pixels
are known: the ``mnistm`` target holds the same real MNIST digits as the ``mnist``
target (same order), blended onto photographs, so thresholding the plain digit gives
the stroke mask of each photographic image. :func:`mass_share` turns a map and a mask
into one number, the share of the map's total mass on the mask (the "energy-based
pointing game" of Score-CAM); a map spread uniformly scores the mask's area fraction.

The library computes the maps; this module only adapts our models to it (f_e returns
``(logits, stage_maps)``, Grad-CAM wants logits) and prepares the inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torchvision.transforms import v2

from csg.data.digit_scenes import STROKE_THRESHOLD


class LogitsOnly(nn.Module):
    """Wrap an f_e whose forward returns ``(logits, stage_maps)`` so it returns the logits only."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)[0]


def last_stage(model: nn.Module) -> nn.Module:
    """The layer Grad-CAM reads by default: the backbone's last stage (stage 4)."""
    return model.backbone.stages[-1]


def grad_cam(
    model: nn.Module,
    images: torch.Tensor,
    classes: Sequence[int] | None = None,
    layer: nn.Module | None = None,
    batch_size: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM maps of ``model`` on ``images`` (N, 3, H, W), through ``pytorch_grad_cam.GradCAM``.

    Args:
        model: an f_e (``csg.models.Classifier``) returning ``(logits, stage_maps)``.
        images: normalised input batch, as the model's evaluation transform makes it.
        classes: the class each map explains; None = the model's predicted class
            (the default of the Grad-CAM implementation the paper used).
        layer: the layer whose activations and gradients are combined; None = the
            last stage, ``model.backbone.stages[-1]``.

    Returns ``(cams, predictions)``: cams (N, H, W) float in [0, 1] (the library scales
    each map by its own min and max; a map that is zero everywhere stays zero) and the
    predicted classes (N,) of the same forward passes.
    """
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    if images.ndim != 4:
        raise ValueError(f"images must be (N, 3, H, W), got shape {tuple(images.shape)}")
    if classes is not None and len(classes) != len(images):
        raise ValueError(f"{len(classes)} classes for {len(images)} images")
    wrapped = LogitsOnly(model).eval()
    layer = last_stage(model) if layer is None else layer
    device = next(model.parameters()).device
    cams, preds = [], []
    with GradCAM(model=wrapped, target_layers=[layer]) as cam:
        for start in range(0, len(images), batch_size):
            # requires_grad on the input: the layer's output then has a gradient even
            # when no parameter before it is trainable (e.g. a frozen backbone).
            x = images[start : start + batch_size].to(device).requires_grad_(True)
            with torch.no_grad():
                pred = wrapped(x).argmax(1).cpu()
            wanted = pred if classes is None else classes[start : start + batch_size]
            targets = [ClassifierOutputTarget(int(c)) for c in wanted]
            cams.append(cam(input_tensor=x, targets=targets))
            preds.append(pred.numpy())
    model.zero_grad(set_to_none=True)
    return np.concatenate(cams), np.concatenate(preds)


def mass_share(maps, masks) -> np.ndarray:
    """Per map, the share of its total (non-negative) mass that lies on its mask.

    ``maps`` (N, H, W) >= 0 and boolean ``masks`` (N, H, W) -> (N,) in [0, 1]; NaN for a
    map with no mass. A uniform map scores the mask's area fraction, a map that lies
    entirely on the mask scores 1.
    """
    maps = np.asarray(maps, dtype=np.float64)
    masks = np.asarray(masks, dtype=bool)
    if maps.shape != masks.shape or maps.ndim != 3:
        raise ValueError(f"maps {maps.shape} and masks {masks.shape} must both be (N, H, W)")
    if (maps < 0).any():
        raise ValueError("maps must be non-negative (Grad-CAM maps are, after its ReLU)")
    total = maps.sum(axis=(1, 2))
    on = (maps * masks).sum(axis=(1, 2))
    return np.divide(on, total, out=np.full(len(maps), np.nan), where=total > 0)


def stroke_shares(cams: dict, masks: dict) -> dict:
    """Mean :func:`mass_share` (%) of Grad-CAM maps keyed ``(split, *model)`` on the stroke
    masks of their split, keyed the same way (NaN maps, those with no mass, left out)."""
    return {key: float(np.nanmean(mass_share(maps, masks[key[0]]))) * 100 for key, maps in cams.items()}


def stroke_mask(plain_digit, image_size: int, threshold: int = STROKE_THRESHOLD) -> np.ndarray:
    """The strokes of a plain real digit (white on black) at the model's input size.

    The image is resized and centre-cropped exactly as the classification evaluation
    transform does it, then its intensity is thresholded (the digit-scenes benchmark
    labels a stroke pixel the same way: MNIST intensity >= 128).
    """
    grey = v2.CenterCrop(image_size)(v2.Resize(image_size)(plain_digit.convert("L")))
    return np.asarray(grey) >= threshold


def target_images(bench, split: str, transform, n: int):
    """The first ``n`` images of a classification split: ``(inputs (n, 3, S, S), labels (n,))``.

    The real targets of the offline benchmark are stored class-stratified in a shuffled
    order, so the first ``n`` cover the classes without a further draw.
    """
    ds = bench.dataset(split, transform)
    items = [ds[i] for i in range(min(n, len(ds)))]
    return torch.stack([x for x, _ in items]), np.array([y for _, y in items])


def stroke_masks(bench, split: str, image_size: int, n: int, plain_split: str = "mnist") -> np.ndarray:
    """Stroke masks (n, S, S) of the first ``n`` images of a real digits target.

    ``split`` is ``mnistm`` (digits on photographs) or ``mnist`` itself; the masks come
    from the same digits in ``plain_split``, which the benchmark stores in the same
    order (checked here: the labels must agree image by image; the data tests check the
    pixels).
    """
    shown, plain = bench.dataset(split), bench.dataset(plain_split)
    n = min(n, len(shown))
    if len(plain) != len(shown) or not np.array_equal(np.asarray(plain.labels), np.asarray(shown.labels)):
        raise ValueError(f"{split!r} and {plain_split!r} do not hold the same digits in the same order")
    return np.stack([stroke_mask(plain[i][0], image_size) for i in range(n)])


def paired_difference(a, b) -> dict:
    """Compare two per-image measures on the same images: ``b - a``.

    NaN pairs are dropped. Returns the two means, the mean difference with its
    standard error and a normal-approximation 95 % interval, the share of images where
    ``b`` is higher, and the number of pairs.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a {a.shape} and b {b.shape} must be two (N,) arrays")
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = len(a)
    d = b - a
    se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    mean = float(d.mean()) if n else float("nan")
    return {
        "mean_a": float(a.mean()) if n else float("nan"),
        "mean_b": float(b.mean()) if n else float("nan"),
        "diff": mean,
        "se": se,
        "ci95": (mean - 1.96 * se, mean + 1.96 * se),
        "b_higher": float((d > 0).mean()) if n else float("nan"),
        "n": n,
    }


def plot_cams(images, labels, cams: dict, class_names, mean=None, std=None, n: int = 8, size: float = 1.5):
    """Fig. 5's layout: the images on the first row, then one row of Grad-CAM overlays per model.

    ``cams`` maps a row name to ``(maps (N, H, W), predictions (N,))``; each overlay is
    titled with the model's prediction and a check mark when it is right. ``mean``/``std``
    undo the input normalisation. Returns the figure.
    """
    import matplotlib.pyplot as plt

    from .viz import overlay_attention, to_image

    n = min(n, len(images))
    fig, axes = plt.subplots(1 + len(cams), n, figsize=(size * n, (size + 0.25) * (1 + len(cams))), squeeze=False)
    for j in range(n):
        image = to_image(images[j], mean, std)
        axes[0, j].imshow(image)
        axes[0, j].set_xticks([]), axes[0, j].set_yticks([])
        axes[0, j].set_title(f"label {class_names[int(labels[j])]}", fontsize=8)
        for r, (maps, preds) in enumerate(cams.values(), start=1):
            overlay_attention(axes[r, j], image, maps[j], vmax=1.0, colorbar=False)
            right = int(preds[j]) == int(labels[j])
            axes[r, j].set_title(
                f"{class_names[int(preds[j])]} {'✓' if right else '✗'}",
                fontsize=8,
                color="black" if right else "firebrick",
            )
    for r, name in enumerate(["image", *cams], start=0):
        axes[r, 0].set_ylabel(name, fontsize=8)
    fig.tight_layout()
    return fig
