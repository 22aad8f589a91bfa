"""RandAugment: one op of magnitude M of 30, two independent views."""

import pytest
import torch
from PIL import Image
from skimage import data as skdata

from csg.augment import TwoViews, rand_augment


def test_two_independent_randaugment_views():
    torch.manual_seed(0)
    views = TwoViews(rand_augment(30))
    img = Image.fromarray(skdata.astronaut()).resize((64, 64))
    pairs = [views(img) for _ in range(8)]
    # At full magnitude the two draws almost never coincide; at M = 0 most ops are identities.
    assert sum(a.tobytes() != b.tobytes() for a, b in pairs) >= 6
    ra = rand_augment(6)
    assert ra.num_ops == 1 and ra.magnitude == 6 and ra.num_magnitude_bins == 31
    for bad in (-1, 31, 2.5):
        with pytest.raises(ValueError, match=r"\[0, 30\]"):
            rand_augment(bad)
