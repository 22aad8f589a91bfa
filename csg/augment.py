"""Image augmentation T(.) of Sec. 3.2: RandAugment, two independent views."""

from __future__ import annotations

from collections.abc import Callable

from torchvision import transforms as T

MAX_MAGNITUDE = 30  # the paper's M lives on RandAugment's 30-step scale (Table 2: 0..18)


def rand_augment(magnitude: int) -> T.RandAugment:
    """RandAugment with one op per image at magnitude M of 30 (torchvision's implementation).

    31 magnitude bins make bin M exactly M/30 of each op's maximum strength.
    """
    if not (isinstance(magnitude, int) and 0 <= magnitude <= MAX_MAGNITUDE):
        raise ValueError(f"RandAugment magnitude M must be an integer in [0, {MAX_MAGNITUDE}], got {magnitude!r}")
    return T.RandAugment(num_ops=1, magnitude=magnitude, num_magnitude_bins=MAX_MAGNITUDE + 1)


class TwoViews:
    """Apply a random transform twice, independently: (query view for f_e, key view for f_e,o)."""

    def __init__(self, transform: Callable):
        self.transform = transform

    def __call__(self, image):
        return self.transform(image), self.transform(image)

    def __repr__(self):
        return f"TwoViews({self.transform!r})"
