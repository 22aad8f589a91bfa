"""The CPU-sized segmentation benchmark: textured, cluttered scenes of one digit, and its design twin."""

import numpy as np
import pytest

from csg.data import TexturedScenes, benchmark, render, textured_scenes


@pytest.fixture(scope="module")
def bank():
    return render.glyph_bank(render.digit_fonts())


def test_scenes_are_deterministic_with_one_digit_class_each(bank):
    images, labels = textured_scenes.render_textured_scenes(16, 64, np.random.default_rng(0), bank)
    again, again_labels = textured_scenes.render_textured_scenes(16, 64, np.random.default_rng(0), bank)
    assert np.array_equal(images, again) and np.array_equal(labels, again_labels)
    assert images.shape == (16, 64, 64, 3) and images.dtype == np.uint8 and labels.max() <= 10
    for scene in labels:
        assert len(set(np.unique(scene)) - {0}) <= 1  # one digit, possibly all occluded
    assert 0.05 < (labels > 0).mean() < 0.4


def test_labels_follow_the_visible_digit(bank):
    # without noise and blur, label edges are image edges; shifted labels are not
    images, labels = textured_scenes.render_textured_scenes(40, 64, np.random.default_rng(1), bank, degrade=False)
    grey = images.astype(np.float32).mean(axis=-1)
    gx = np.abs(np.diff(grey, axis=2))

    def edge_contrast(maps):
        edge = maps[:, :, 1:] != maps[:, :, :-1]
        return gx[edge].mean() / gx.mean()

    assert edge_contrast(labels) > 1.5 * edge_contrast(np.roll(labels, 4, axis=2))


def test_an_occluder_hides_the_digit_under_it(bank, monkeypatch):
    monkeypatch.setattr(textured_scenes, "OCCLUDER_SIZE", (0.9, 0.9))
    always, never = (textured_scenes.Clutter(p_occluder=p) for p in (1.0, 0.0))
    _, covered = textured_scenes.render_textured_scenes(8, 64, np.random.default_rng(2), bank, clutter=always)
    _, bare = textured_scenes.render_textured_scenes(8, 64, np.random.default_rng(2), bank, clutter=never)
    assert (covered > 0).sum() < 0.5 * (bare > 0).sum()


def test_the_clutter_is_part_of_the_rendered_scenes_identity(tmp_path):
    class Bare(TexturedScenes):
        clutter = textured_scenes.Clutter(strokes_below=(0, 0), p_stroke_above=0.0, p_occluder=0.0)

    default, bare = (cls("train", cache_dir=tmp_path, train_size=6) for cls in (TexturedScenes, Bare))
    assert not np.array_equal(default.images, bare.images)  # not the default's cached scenes
    assert bare.meta["params"]["clutter_p_occluder"] == 0.0


def test_dataset_and_the_design_benchmark_without_its_target(tmp_path):
    ds = TexturedScenes("train", cache_dir=tmp_path, train_size=6)
    assert ds.images.shape == (6, 64, 64, 3) and ds.num_classes == 11
    real = TexturedScenes("mnistm", cache_dir=tmp_path, real_size=4)
    assert real.images.shape == (4, 64, 64, 3) and len(set(np.unique(real.labels[0])) - {0}) <= 1
    assert benchmark("textured_scenes").target_splits == ("mnistm",)
    assert benchmark("textured_scenes_design").target_splits == ()
