"""Each chapter's scale, in one place: its run sizes, seeds and λ grid at each profile.

A chapter's parameters cell reads its scale from here (``chapter_scale("05_ablations")``), and
so do the claims its runs decide (:mod:`csgbook.claims`, at the standard profile), so the two
cannot drift apart. Standard sizes are stated in full, the engine's defaults included; a
run's name hashes only what differs from the defaults, so stating them renames nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from csg.config import Config
from csg.registry import DECADES

from .profile import current_profile

# The run settings a chapter's scale fixes (fields of csg.config.Config).
RUN_FIELDS = ("image_size", "batch_size", "train_size", "eval_size", "final_eval_size", "epochs", "lr", "recipe")
_ENGINE = Config()


def engine_sizes(**changes) -> dict:
    """The engine's default run settings (csg.config.Config), with ``changes``."""
    return {k: getattr(_ENGINE, k) for k in RUN_FIELDS} | changes


# The records chapter 01 shows were trained with the book's first recipe (torch's SGD, a warm-up
# and an EMA horizon shrunk with the run) and scored on 1,000 images per split; it moves to the
# official recipe when its runs are recorded with it (issue 19), as 04, 05 and 06 have (Table 1's
# design, csgbook.design).
FIRST_RECIPE = dict(recipe="book", final_eval_size=1000)


# The smoke profile: tiny runs on tiny generated benchmarks, so that the whole book executes
# in minutes on 2 cores (numbers meaningless, never shown as results).
_SMOKE_SCENE_SIZES = engine_sizes(image_size=64, batch_size=4, train_size=8, eval_size=4, final_eval_size=4, epochs=1)
_SMOKE_SCENE_GENERATION = dict(source_images=96, source_val_images=32, target_images=64)
SMOKE_SIZES = {
    "digits": engine_sizes(image_size=64, batch_size=16, train_size=64, eval_size=32, final_eval_size=32, epochs=1),
    "digit_scenes": _SMOKE_SCENE_SIZES,
    "textured_scenes": _SMOKE_SCENE_SIZES,
}
SMOKE_PRIOR = dict(epochs=1)  # the positive control's prior (csgbook.design.PRIOR) in the smoke profile
SMOKE_GENERATION = {  # csg.data.GENERATION_OPTIONS of the smoke profile's generated benchmarks
    "digits": dict(source_images=512, source_val_images=128),
    "digit_scenes": _SMOKE_SCENE_GENERATION,
    "textured_scenes": _SMOKE_SCENE_GENERATION,
}


@dataclass(frozen=True)
class Scale:
    """A chapter's runs at one profile: run sizes (fields of csg.config.Config, read as
    attributes: ``scale.epochs``), seeds, λ grid, and the images it measures beyond its runs."""

    run: Mapping
    seeds: tuple[int, ...]
    weight_grid: tuple[float, ...] = ()
    measured_images: int | None = None

    def __getattr__(self, name):
        if name in RUN_FIELDS:
            return self.run[name]
        raise AttributeError(name)


# Table 1's evaluation seeds: as many as its pilot's power analysis calls for (results/table1/power.json).
TABLE1_SEEDS = tuple(range(6))
SEGMENTATION_SEEDS = tuple(range(5))  # the floor; each verdict shows the effect these seeds can see
SEGMENTATION_GRID = (7.5, 75.0, 750.0)  # decades centred on the paper's λ = 75

STANDARD = {
    # Sec. 2's models: plain fine-tuning on as many images as the real training split holds (the
    # paper's footnote: the real and the synthetic model see the same number of images).
    "01_motivating_example": Scale(engine_sizes(train_size=1000, **FIRST_RECIPE), (0, 1, 2)),
    # Table 1's design (csgbook.design): the official recipe, every held-out image scored at the end.
    "04_visda": Scale(engine_sizes(), TABLE1_SEEDS, DECADES),
    # Table 1's CSG, one setting changed at a time (csgbook.design.ABLATIONS), at its chosen λ.
    "05_ablations": Scale(engine_sizes(), TABLE1_SEEDS, DECADES),
    # Chapter 04's runs, so that it reuses their trained models.
    "06_attention": Scale(engine_sizes(), TABLE1_SEEDS[:3], DECADES, measured_images=500),
    # Issue 20's benchmark, textured_scenes: 1,440 steps of 8 whole 64-px scenes (5,760 scenes, 2
    # epochs), lr 0.01, mIoU on 200 scenes per split; the design trials on synthetic_val
    # (results/textured_design/README.md) chose every size here within 25 minutes of one CPU core.
    "07_segmentation": Scale(
        engine_sizes(
            image_size=64, batch_size=8, train_size=5760, eval_size=200, final_eval_size=200, epochs=2, lr=0.01
        ),
        SEGMENTATION_SEEDS,
        SEGMENTATION_GRID,
    ),
}
SMOKE = {
    # all of the smoke split (train_size None), as the standard chapter trains on all of real_train
    "01_motivating_example": Scale(SMOKE_SIZES["digits"] | dict(train_size=None), (0,)),
    "04_visda": Scale(SMOKE_SIZES["digits"], (0, 1), (0.1, 1.0)),
    "05_ablations": Scale(SMOKE_SIZES["digits"], (0, 1), (0.1, 1.0)),
    "06_attention": Scale(SMOKE_SIZES["digits"], (0, 1), (0.1, 1.0), measured_images=16),
    "07_segmentation": Scale(SMOKE_SIZES["digit_scenes"], (0, 1), (0.75, 75.0)),
}


def chapter_scale(chapter: str) -> Scale:
    """The scale of ``chapter`` ("05_ablations") at the active profile."""
    scales = SMOKE if current_profile() == "smoke" else STANDARD
    if chapter not in scales:
        raise ValueError(f"no scale for chapter {chapter!r}; accepted: {', '.join(scales)}")
    return scales[chapter]
