"""Scale-faithful settings: the run-length-dependent hyper-parameters of a run of any size.

The paper tuned its queue size K, EMA momentum m and learning-rate warm-up for one run:
VisDA-17's 152,397 training images, batch 32, 30 epochs, i.e. 142,860 steps. Copied
into a shorter run they mean something else. In a 375-step run of 4,000 images,
K = 65,536 is larger than the 12,000 keys the run ever produces, so most negatives stay
random and each image meets its own earlier key as a negative; and m = 0.999 (an
averaging horizon of 1,000 steps) leaves the key heads near their initial weights.

The rule keeps the paper's *ratios* instead of its values:

- **K** keeps its share of the keys one epoch produces in the paper's run of the same kind.
  One key per image (classification): K / N = 65,536 / 152,397 ≈ 0.43 on VisDA-17, so the
  queue holds about the same fraction of the training set, and never an image's own key from
  the previous epoch. Dense CSG (Eq. 6, one key per patch): the official segmentation run
  keeps the same K = 65,536 for the keys of an 8 x 8 grid of patches, in epochs of 2,000
  steps of 6 images (``train_seg.py``, ``config_seg.py``), a share of 65,536 / 768,000 ≈ 0.085.
- **m** keeps its averaging horizon 1 / (1 - m) as a share of the run: 1,000 steps of
  142,860, i.e. 0.7 %. A run of T steps gets m = 1 - (1 - 0.999) · 142,860 / T.
- **warm-up** keeps its share of the run: the official schedule ramps the learning rate
  over the first 100 of 142,860 steps.

At the paper's scale the rule gives exactly the paper's values (a test checks it). It is
derived from the paper's settings alone, never from a target score.

The segmentation head has a size-dependent setting too: DeepLab's ASPP dilation rates
(12, 24, 36) were set for the stride-8 map of a 512-px training crop, 64 cells a side.
On a 16-cell map they would sample almost only padding; :func:`aspp_rates` keeps each
rate's share of the map's side instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunScale:
    """How long a run is: its training images, batch size and epochs (the last partial batch is dropped)."""

    train_images: int
    batch_size: int
    epochs: int

    def __post_init__(self):
        for name in ("train_images", "batch_size", "epochs"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {getattr(self, name)!r}")

    @property
    def steps(self) -> int:
        return self.epochs * (self.train_images // self.batch_size)


# The official VisDA-17 run (NVlabs/CSG train.sh and utils/utils.py) and its settings.
PAPER_SCALE = RunScale(train_images=152_397, batch_size=32, epochs=30)
PAPER_QUEUE_SIZE = 65_536
PAPER_EMA_MOMENTUM = 0.999
PAPER_WARMUP_ITERS = 100
# The official segmentation run's epoch (NVlabs/CSG config_seg.py: 2,000 steps of 6 crops) and
# its keys per crop (an 8 x 8 grid of patches), with the same K.
PAPER_DENSE_EPOCH_IMAGES = 2_000 * 6
PAPER_DENSE_KEYS_PER_IMAGE = 64


# DeepLab-v3's ASPP at output stride 8 and the paper's 512-px segmentation crops.
PAPER_ASPP_RATES = (12, 24, 36)
PAPER_SEGMENTATION_CROP = 512


def aspp_rates(crop: int, output_stride: int = 8) -> tuple[int, ...]:
    """ASPP dilation rates with the paper's ratio to the side of the feature map (at least 1)."""
    if not (isinstance(crop, int) and crop >= output_stride >= 1):
        raise ValueError(f"crop must be an integer >= output_stride ({output_stride}), got {crop!r}")
    side_ratio = (crop / output_stride) / (PAPER_SEGMENTATION_CROP / 8)
    return tuple(max(1, round(r * side_ratio)) for r in PAPER_ASPP_RATES)


def queue_share(keys_per_image: int = 1) -> float:
    """K's share of the keys one epoch produces in the paper's run of the same kind: VisDA-17's
    (0.43) for one key per image, the official segmentation run's (0.085) for dense CSG."""
    if keys_per_image == 1:
        return PAPER_QUEUE_SIZE / PAPER_SCALE.train_images
    return PAPER_QUEUE_SIZE / (PAPER_DENSE_EPOCH_IMAGES * PAPER_DENSE_KEYS_PER_IMAGE)


def queue_size(scale: RunScale, keys_per_image: int = 1) -> int:
    """K with the paper's ratio to the keys of one epoch; at least one batch of keys."""
    k = round(queue_share(keys_per_image) * scale.train_images * keys_per_image)
    return max(k, scale.batch_size * keys_per_image)


def ema_momentum(scale: RunScale) -> float:
    """m whose horizon 1 / (1 - m) is the paper's share of the run (1,000 of 142,860 steps);
    0, no averaging, when that share is a step or less."""
    horizon = scale.steps / PAPER_SCALE.steps / (1 - PAPER_EMA_MOMENTUM)
    return 1 - 1 / horizon if horizon > 1 else 0.0


def warmup_iters(scale: RunScale) -> int:
    """Warm-up steps with the paper's share of the run."""
    return round(PAPER_WARMUP_ITERS * scale.steps / PAPER_SCALE.steps)


@dataclass(frozen=True)
class RunSettings:
    """The run-length-dependent settings of one run, as it trains with them."""

    queue_size: int  # K, negatives per stage
    ema_momentum: float  # m of the EMA heads
    warmup_iters: int  # steps of the learning-rate warm-up


RECIPES = ("book", "official")


def queue_ema_momentum(queue_size: int, keys_per_step: int) -> float:
    """m whose averaging horizon 1 / (1 - m) keeps the paper's share of the queue's span, the
    steps a key stays in the queue (K / keys per step): 1,000 of 65,536 / 32 = 2,048 steps.
    MoCo's reason for the EMA is that the keys sitting in the queue together must come from a
    slowly changing encoder, so the horizon follows the queue, not the run. 0 (no averaging)
    when the horizon is a step or less."""
    paper_share = (1 / (1 - PAPER_EMA_MOMENTUM)) / (PAPER_QUEUE_SIZE / PAPER_SCALE.batch_size)
    horizon = paper_share * queue_size / keys_per_step
    return 1 - 1 / horizon if horizon > 1 else 0.0


def scaled_settings(
    scale: RunScale, keys_per_image: int = 1, recipe: str = "book", queue_size_given: int | None = None
) -> RunSettings:
    """Every run-length-dependent setting of a run of this scale. ``recipe`` "book": the rule above
    (every setting keeps its share of the run); "official": K as above, m from the queue's span
    (:func:`queue_ema_momentum`) and the official code's 100 warm-up steps, whatever the run's
    length (the warm-up lets the new heads settle, which does not shrink with the run). A queue
    size given to the run is the one m follows."""
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; accepted: {', '.join(RECIPES)}")
    k = queue_size_given or queue_size(scale, keys_per_image)
    if recipe == "official":
        return RunSettings(k, queue_ema_momentum(k, scale.batch_size * keys_per_image), PAPER_WARMUP_ITERS)
    return RunSettings(k, ema_momentum(scale), warmup_iters(scale))
