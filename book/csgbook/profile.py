"""The book's profiles: how big a chapter's runs are, chosen by the environment variable ``CSG_PROFILE``.

``standard`` (the default) runs the offline benchmark at a scale where methods separate;
``smoke`` shrinks every chapter so the whole book executes on a 2-core CPU in minutes
(the tests set it). Smoke numbers are meaningless and never presented as results.
The library never reads the profile: a chapter's sizes at each profile are in
:mod:`csgbook.scales`, and a run's configuration states them, so a smoke run never carries
a standard run's name.
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


def is_smoke() -> bool:
    """True in the smoke profile (numbers must not be presented as results)."""
    return current_profile() == "smoke"
