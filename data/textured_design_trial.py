"""A design trial of the textured-scenes benchmark at another clutter level (issue 20).

    python data/textured_design_trial.py light --method vanilla --image-size 64 ... (csg.train's arguments)

Registers ``textured_scenes_design_<level>``: the design benchmark (no real target) whose
scenes carry that much clutter (:class:`csg.data.textured_scenes.Clutter`), then trains it
with ``python -m csg.train``'s arguments. Its record and its rendered scenes are its own
(the level is in the dataset's name and in the scenes' cache key). A level chosen here
becomes the benchmark's default once the design is frozen.
"""

import sys

from csg.data.digit_scenes import SCENE_DATASET
from csg.data.registry import register_benchmark, register_dataset
from csg.data.textured_scenes import Clutter, TexturedScenes
from csg.train import main

LEVELS = {
    "light": Clutter(strokes_below=(0, 2), p_stroke_above=0.15, p_occluder=0.15),  # about half the default
    "lighter": Clutter(strokes_below=(0, 1), p_stroke_above=0.1, p_occluder=0.1),  # a third: the default (trial 10)
    "sparse": Clutter(strokes_below=(0, 1), p_stroke_above=0.05, p_occluder=0.05),  # about a fifth
    "none": Clutter(strokes_below=(0, 0), p_stroke_above=0.0, p_occluder=0.0),  # a diagnostic, not a candidate
}


def register(level: str) -> str:
    """Register the design benchmark at clutter ``level``; its name."""
    name = f"textured_scenes_design_{level}"
    scenes = type(f"TexturedScenes_{level}", (TexturedScenes,), {"name": name, "clutter": LEVELS[level]})
    register_dataset(name, **SCENE_DATASET)(scenes)
    register_benchmark(name, source=(name, "train"), source_val=(name, "synthetic_val"), targets=())
    return name


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in LEVELS:
        sys.exit(f"usage: trial.py LEVEL [csg.train arguments]; LEVEL one of {', '.join(LEVELS)}")
    main(["--dataset", register(sys.argv[1]), *sys.argv[2:]])
