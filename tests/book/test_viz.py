import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from csg.pooling import attention_weights
from csgbook import viz


def _circle_points(n, spread, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.normal(0.0, spread, n)
    return np.stack([np.cos(t), np.sin(t)], 1) * rng.uniform(0.5, 3.0, (n, 1))  # norms vary: must not matter


def test_circle_kde_integrates_to_one_and_ignores_norms():
    f = _circle_points(300, 0.8)
    xs, ys, d = viz.circle_kde(f, grid=241, extent=2.0)
    cell = (xs[1] - xs[0]) * (ys[1] - ys[0])
    assert d.sum() * cell == pytest.approx(1.0, abs=0.02)
    _, _, d_unit = viz.circle_kde(f / np.linalg.norm(f, axis=1, keepdims=True), grid=241, extent=2.0)
    np.testing.assert_allclose(d, d_unit)


def test_angle_kde_is_a_density_on_the_circle_and_wraps():
    theta, d = viz.angle_kde(_circle_points(200, 0.3), n=720)
    assert d.sum() * (2 * np.pi / 720) == pytest.approx(1.0, abs=1e-3)
    assert theta[np.argmax(d)] == pytest.approx(0.0, abs=0.15)
    # features clustered at the seam (angle ±π) give a peak there, not two half-bumps
    theta, d = viz.angle_kde(-_circle_points(200, 0.3), n=720)
    assert d.sum() * (2 * np.pi / 720) == pytest.approx(1.0, abs=1e-3)
    assert d[0] == pytest.approx(d.max(), rel=0.1)


def test_collapsed_features_are_more_concentrated_than_diverse_ones():
    _, _, tight = viz.circle_kde(_circle_points(200, 0.1))
    _, _, wide = viz.circle_kde(_circle_points(200, 3.0))
    assert tight.max() > 3 * wide.max()


def test_kde_rejects_features_not_in_2d():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        viz.circle_kde(np.ones((10, 3)))


def test_attention_ratio_averages_to_one_and_upsamples():
    w = attention_weights(torch.rand(2, 8, 7, 7))
    r = viz.attention_ratio(w)
    assert r.shape == (2, 7, 7)
    torch.testing.assert_close(r.mean(dim=(1, 2)), torch.ones(2))
    up = viz.attention_ratio(w, size=224)
    assert up.shape == (2, 224, 224)
    assert up.mean().item() == pytest.approx(1.0, abs=0.02)


def test_overlay_shapes_are_checked():
    fig, ax = plt.subplots()
    img = torch.zeros(3, 32, 32)
    viz.overlay_attention(ax, img, torch.ones(32, 32), colorbar=False)
    assert ax.images[0].get_array().shape == (32, 32, 3)
    assert ax.images[1].get_array().shape == (32, 32)
    with pytest.raises(ValueError, match="upsample"):
        viz.overlay_attention(ax, img, torch.ones(4, 4))
    plt.close(fig)


def test_to_image_undoes_normalisation():
    x = torch.full((3, 4, 5), 0.25)
    img = viz.to_image((x - 0.5) / 0.5, mean=(0.5,) * 3, std=(0.5,) * 3)
    assert img.shape == (4, 5, 3)
    np.testing.assert_allclose(img, 0.25, atol=1e-6)
    assert viz.to_image(np.full((4, 5), 255, np.uint8)).shape == (4, 5, 3)


def test_colorize_mask():
    m = np.array([[0, 1], [18, 255]])
    rgb = viz.colorize_mask(m)
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 0]) == (128, 64, 128)  # road
    assert tuple(rgb[1, 1]) == (0, 0, 0)  # ignored
    with pytest.raises(ValueError, match="mask values"):
        viz.colorize_mask(np.array([[19]]))
    assert len(set(map(tuple, viz.tab_palette(11)))) == 11


def test_image_grid_lays_out_rows():
    fig = viz.image_grid([torch.rand(3, 8, 8) for _ in range(5)], ncols=3, row_labels=["a", "b"])
    assert len(fig.axes) == 6
    plt.close(fig)


def test_sample_photos_are_square_real_photographs():
    photos = viz.sample_photos(["chelsea", "china"], size=64)
    assert list(photos) == ["chelsea", "china"]
    assert all(p.size == (64, 64) and p.mode == "RGB" for p in photos.values())
    assert np.asarray(photos["chelsea"]).std() > 10  # a photograph, not a blank
    with pytest.raises(ValueError, match="accepted: chelsea"):
        viz.sample_photos(["lena"])


def test_feature_circle_draws_features_and_survives_a_single_one():
    fig, (ax1, ax2) = plt.subplots(1, 2)
    features = torch.randn(20, 8, generator=torch.Generator().manual_seed(0))
    energy = viz.plot_feature_circle(ax1, features, "twenty")
    assert np.isfinite(energy) and f"energy (s = 0): {energy:.4f}" in ax1.get_title()
    assert np.isnan(viz.plot_feature_circle(ax2, features[:1], "one"))
    plt.close(fig)


def test_learning_curves_tick_whole_epochs_and_keep_the_legend_off_the_data():
    history = [{"epoch": e, "synthetic_val": 0.5 + 0.1 * e, "mnistm": 0.3 + 0.05 * e} for e in (1, 2, 3)]
    runs = {(label, 0): {"final": {}, "history": history} for label in ("Baseline", "CSG")}
    fig = viz.learning_curves(runs, ["synthetic_val", "mnistm"], seed=0)
    fig.canvas.draw()
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks)
        assert ax.get_legend() is None  # the legend is the figure's, below the panels
    (legend,) = fig.legends
    below = legend.get_window_extent().y1
    assert all(below <= ax.get_window_extent().y0 for ax in fig.axes)
    plt.close(fig)


def test_scene_grid_puts_each_scene_beside_its_labels():
    scenes = [(np.full((4, 4, 3), i, np.uint8), np.full((4, 4), i % 3)) for i in range(5)]
    palette = viz.tab_palette(3)
    fig = viz.scene_grid({"a": scenes, "b": scenes[::-1]}, palette, n=2)
    assert len(fig.axes) == 8 and [ax.get_title() for ax in fig.axes[:4]] == ["a", "labels"] * 2
    shown = fig.axes[7].images[0].get_array()  # "b"'s second scene is scenes[3]: class 0
    assert np.allclose(np.asarray(shown)[..., :3], palette[0] / 255)
    plt.close(fig)
