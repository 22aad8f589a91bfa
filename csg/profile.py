"""Run profiles: how big a run is, chosen by the environment variable ``CSG_PROFILE``.

``standard`` (the default) runs the offline benchmark at a scale where methods separate;
``smoke`` shrinks every chapter so the whole book executes on a 2-core CPU in minutes
(the tests set it). Smoke numbers are meaningless and never presented as results.
Chapters pick their parameter values with :func:`by_profile`::

    epochs = by_profile(standard=30, smoke=1)
"""

from __future__ import annotations

import os

ENV_VAR = "CSG_PROFILE"
PROFILES = ("standard", "smoke")
DEFAULT = "standard"


def current_profile() -> str:
    """The active profile: ``$CSG_PROFILE`` (case and surrounding blanks ignored), else "standard"."""
    raw = os.environ.get(ENV_VAR)
    if raw is None or not raw.strip():
        return DEFAULT
    name = raw.strip().lower()
    if name not in PROFILES:
        raise ValueError(f"{ENV_VAR}={raw!r} is not a profile; accepted values: {', '.join(PROFILES)}")
    return name


def by_profile(*, standard, smoke):
    """Return the value given for the active profile: ``by_profile(standard=30, smoke=1)``."""
    return {"standard": standard, "smoke": smoke}[current_profile()]


# Sizes the offline benchmarks are generated at in the smoke profile (standard: the datasets' own).
SMOKE_GENERATION = {
    "digits": {"train_size": 512, "val_size": 128},
    "digit_scenes": {"train_size": 96, "val_size": 32, "real_size": 64},
}


def generation_sizes(dataset: str) -> dict:
    """Parameters that shrink a generated benchmark in the smoke profile ({} otherwise)."""
    return SMOKE_GENERATION.get(dataset, {}) if is_smoke() else {}


def is_smoke() -> bool:
    """True in the smoke profile (numbers must not be presented as results)."""
    return current_profile() == "smoke"
