"""Plotting helpers the book's chapters share: image grids, attention overlays (Fig. 4b),
feature density on the circle (Figs. 2 and 6), segmentation masks (Fig. 7), and the
statistical figures of runs over seeds (seaborn).

Each function draws on matplotlib axes it is given (or creates) and returns what it
computed, so chapters can also print or test the numbers behind a figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

# Cityscapes' colours for its 19 training IDs (road, sidewalk, ..., bicycle), the
# convention of Figure 7 and of every GTA5 -> Cityscapes paper.
CITYSCAPES_PALETTE = np.array(
    [
        (128, 64, 128),
        (244, 35, 232),
        (70, 70, 70),
        (102, 102, 156),
        (190, 153, 153),
        (153, 153, 153),
        (250, 170, 30),
        (220, 220, 0),
        (107, 142, 35),
        (152, 251, 152),
        (70, 130, 180),
        (220, 20, 60),
        (255, 0, 0),
        (0, 0, 142),
        (0, 0, 70),
        (0, 60, 100),
        (0, 80, 100),
        (0, 0, 230),
        (119, 11, 32),
    ],
    dtype=np.uint8,
)


def to_image(x, mean: Sequence[float] | None = None, std: Sequence[float] | None = None) -> np.ndarray:
    """Any image -> an (H, W, 3) float array in [0, 1] for ``imshow``.

    Accepts a PIL image, an (H, W[, C]) array (uint8 or float in [0, 1]) or a (C, H, W)
    tensor; ``mean``/``std`` undo a ``Normalize`` (e.g. ``backbone.mean, backbone.std``).
    """
    if isinstance(x, torch.Tensor):
        x = x.detach().float().cpu()
        if x.ndim != 3:
            raise ValueError(f"a tensor image must be (C, H, W), got shape {tuple(x.shape)}")
        if mean is not None:
            x = x * torch.tensor(std).view(-1, 1, 1) + torch.tensor(mean).view(-1, 1, 1)
        x = x.permute(1, 2, 0).numpy()
    else:
        x = np.asarray(x)
        x = x / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)
    if x.ndim == 2:
        x = x[..., None]
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    return np.clip(x, 0.0, 1.0)


def image_grid(
    images,
    ncols: int | None = None,
    titles: Sequence[str] | None = None,
    row_labels=None,
    mean=None,
    std=None,
    size: float = 1.6,
    axes=None,
):
    """Draw images in a grid; returns the figure. ``row_labels`` name the rows (domains)."""
    import matplotlib.pyplot as plt

    images = list(images)
    ncols = ncols or len(images)
    nrows = -(-len(images) // ncols)
    if axes is None:
        fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    else:
        axes = np.asarray(axes).reshape(nrows, ncols)
        fig = axes.flat[0].figure
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([]), ax.set_yticks([])
        for side in ax.spines.values():
            side.set_visible(False)
        if i < len(images):
            ax.imshow(to_image(images[i], mean, std))
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    for r, label in enumerate(row_labels or []):
        axes[r, 0].set_ylabel(label, fontsize=9)
    return fig


def attention_ratio(weights: torch.Tensor, size: int | tuple[int, int] | None = None) -> torch.Tensor:
    """A-pool's weights as Figure 4b draws them: the ratio a_ij / (1/hw) to uniform weight.

    ``weights`` is (B, h, w) from :func:`csg.pooling.attention_weights` (each map sums
    to 1), so the ratio averages to 1 over each map; 1.5 means 1.5/(hw). With ``size``
    the ratio is upsampled bilinearly to the input size, as in the paper's figure.
    """
    if weights.ndim != 3:
        raise ValueError(f"weights must be (B, h, w), got shape {tuple(weights.shape)}")
    ratio = weights * (weights.shape[1] * weights.shape[2])
    if size is not None:
        ratio = F.interpolate(ratio[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]
    return ratio


def overlay_attention(
    ax, image, ratio, alpha: float = 0.5, cmap: str = "jet", vmax: float | None = None, colorbar: bool = True
):
    """Draw ``image`` with an attention-ratio map (H, W) over it; returns the map's artist."""
    img = to_image(image)
    ratio = np.asarray(ratio.detach().cpu() if isinstance(ratio, torch.Tensor) else ratio)
    if ratio.shape != img.shape[:2]:
        raise ValueError(
            f"ratio map {ratio.shape} must match the image's size {img.shape[:2]}; "
            "upsample it with attention_ratio(weights, size=...)"
        )
    ax.imshow(img)
    art = ax.imshow(ratio, cmap=cmap, alpha=alpha, vmin=0, vmax=vmax)
    ax.set_xticks([]), ax.set_yticks([])
    if colorbar:
        ax.figure.colorbar(art, ax=ax, fraction=0.046, pad=0.03)
    return art


def draw_patch_grid(ax, image, grid: int, color: str = "white"):
    """Draw ``image`` cut into a grid x grid of patches (the dense variant, Eq. 6)."""
    img = to_image(image)
    h, w = img.shape[:2]
    ax.imshow(img)
    for i in range(1, grid):
        ax.axhline(i * h / grid - 0.5, color=color, lw=1)
        ax.axvline(i * w / grid - 0.5, color=color, lw=1)
    ax.set_xticks([]), ax.set_yticks([])


def _unit_2d(features) -> np.ndarray:
    f = np.asarray(features.detach().cpu() if isinstance(features, torch.Tensor) else features, dtype=np.float64)
    if f.ndim != 2 or f.shape[1] != 2:
        raise ValueError(f"features must be (N, 2) to lie on the circle, got shape {f.shape}")
    return f / np.linalg.norm(f, axis=1, keepdims=True)


def circle_kde(features, grid: int = 200, extent: float = 1.5):
    """Gaussian KDE (bandwidth by Scott's rule, as Sec. 2) of L2-normalised 2-d features.

    The (N, 2) features are projected onto the unit circle and the density is estimated
    in the plane with :class:`scipy.stats.gaussian_kde`, evaluated on a grid x grid
    lattice over [-extent, extent]². Returns ``(xs, ys, density)``, density[i, j] at
    (xs[j], ys[i]); it integrates to ~1 over the plane.
    """
    from scipy.stats import gaussian_kde

    f = _unit_2d(features)
    kde = gaussian_kde(f.T, bw_method="scott")
    xs = ys = np.linspace(-extent, extent, grid)
    xx, yy = np.meshgrid(xs, ys)
    density = kde(np.vstack([xx.ravel(), yy.ravel()])).reshape(grid, grid)
    return xs, ys, density


def angle_kde(features, n: int = 360):
    """Density of the features' angles on the circle (per radian; integrates to 1 over [0, 2π)).

    A Gaussian KDE of the angles with Scott's bandwidth (n^(-1/5) times their spread,
    measured around their circular mean so the seam at ±π does not inflate it), made
    periodic by summing the kernel over the copies of the data at ±2π.
    Returns ``(theta, density)``.
    """
    f = _unit_2d(features)
    angles = np.arctan2(f[:, 1], f[:, 0])
    centre = np.arctan2(np.sin(angles).mean(), np.cos(angles).mean())
    spread = np.angle(np.exp(1j * (angles - centre))).std(ddof=1)
    bw = max(spread, 1e-3) * len(angles) ** (-1 / 5)
    theta = np.linspace(-np.pi, np.pi, n, endpoint=False)
    diff = theta[:, None] - angles[None, :]
    density = sum(np.exp(-0.5 * ((diff + k * 2 * np.pi) / bw) ** 2) for k in (-1, 0, 1))
    density = density.mean(axis=1) / (bw * np.sqrt(2 * np.pi))
    return theta, density


def plot_feature_density(ax, features, title: str | None = None, cmap: str = "Blues", grid: int = 200):
    """Figure 2's panel: the KDE of L2-normalised 2-d features, darker = more concentrated."""
    xs, ys, density = circle_kde(features, grid=grid)
    ax.imshow(density, origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), cmap=cmap)
    t = np.linspace(0, 2 * np.pi, 256)
    ax.plot(np.cos(t), np.sin(t), color="grey", lw=0.5, ls=":")
    ax.set_aspect("equal")
    ax.set_xticks([]), ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return density


def plot_feature_circle(ax, features, title: str) -> float:
    """Figs. 2 and 6's panel from network features (N, C): the non-zero ones, L2-normalised,
    projected to 2-d by PCA and drawn as a density on the circle, titled with their
    hyperspherical energy (s = 0, on all C dimensions), which it returns (NaN, and an
    empty panel, for fewer than two features)."""
    from sklearn.decomposition import PCA

    from csg.metrics import hse

    f = torch.as_tensor(features)
    f = F.normalize(f[f.abs().sum(1) > 0], dim=1)
    if len(f) < 2:  # no pairs, no density (e.g. a one-image evaluation split)
        ax.set_axis_off()
        ax.set_title(f"{title}\n{len(f)} feature: no density", fontsize=9)
        return float("nan")
    energy = hse(f)["s0"]
    two_d = PCA(n_components=2, random_state=0).fit_transform(f.numpy())
    plot_feature_density(ax, two_d, title=f"{title}\nenergy (s = 0): {energy:.4f}")
    return energy


def scene_grid(domains: dict, palette: np.ndarray, n: int = 4, size: float = 2.2):
    """The first ``n`` scenes of each of ``domains`` ({name: segmentation dataset}), each beside
    its label mask, two scenes to a row."""
    tiles, titles = [], []
    for name, scenes in domains.items():
        for image, mask in (scenes[i] for i in range(n)):
            tiles += [image, colorize_mask(mask, palette)]
            titles += [name, "labels"]
    return image_grid(tiles, ncols=4, titles=titles, size=size)


def colorize_mask(mask, palette: np.ndarray | None = None, ignore_index: int = 255) -> np.ndarray:
    """Class-index mask (H, W) -> RGB uint8 (H, W, 3); ``ignore_index`` pixels are black.

    The default palette is Cityscapes' 19 colours; more classes need a ``palette``
    with one RGB row per class.
    """
    m = np.asarray(mask.detach().cpu() if isinstance(mask, torch.Tensor) else mask).astype(np.int64)
    palette = CITYSCAPES_PALETTE if palette is None else np.asarray(palette, dtype=np.uint8)
    valid = m != ignore_index
    if valid.any() and (m[valid].min() < 0 or m[valid].max() >= len(palette)):
        raise ValueError(
            f"mask values must lie in [0, {len(palette) - 1}] or equal ignore_index={ignore_index}; "
            f"got {m[valid].min()}..{m[valid].max()}"
        )
    out = np.zeros(m.shape + (3,), dtype=np.uint8)
    out[valid] = palette[m[valid]]
    return out


def tab_palette(n: int) -> np.ndarray:
    """n distinct RGB colours from matplotlib's tab20 (for label sets other than Cityscapes)."""
    import matplotlib

    if not 1 <= n <= 20:
        raise ValueError(f"tab_palette gives 1 to 20 colours, got n={n}")
    return (np.asarray(matplotlib.colormaps["tab20"].colors[:n]) * 255).round().astype(np.uint8)


# Real photographs that ship with scikit-image and scikit-learn (no download needed).
SAMPLE_PHOTOS = ("chelsea", "astronaut", "coffee", "rocket", "china", "flower")


def sample_photos(names: Sequence[str] = SAMPLE_PHOTOS, size: int = 224) -> dict:
    """name -> PIL image, resized (shorter side) and centre-cropped to ``size`` x ``size``.

    ``chelsea``, ``astronaut``, ``coffee`` and ``rocket`` come from ``skimage.data``,
    ``china`` and ``flower`` from ``sklearn.datasets.load_sample_image``.
    """
    from PIL import Image

    photos = {}
    for name in names:
        if name in ("china", "flower"):
            from sklearn.datasets import load_sample_image

            array = load_sample_image(f"{name}.jpg")
        elif name in SAMPLE_PHOTOS:
            import skimage.data

            array = getattr(skimage.data, name)()
        else:
            raise ValueError(f"unknown sample photo {name!r}; accepted: {', '.join(SAMPLE_PHOTOS)}")
        img = Image.fromarray(array).convert("RGB")
        scale = size / min(img.size)
        img = img.resize((max(size, round(img.width * scale)), max(size, round(img.height * scale))), Image.BICUBIC)
        left, top = (img.width - size) // 2, (img.height - size) // 2
        photos[name] = img.crop((left, top, left + size, top + size))
    return photos


def seed_strips(per_seed, score: str = "accuracy (%)"):
    """Every seed's score as a dot, each setting's mean with its 95 % t-interval beside them,
    one panel per split (columns of ``per_seed``; rows indexed by setting, seed). Returns the
    seaborn FacetGrid."""
    import seaborn as sns

    from csg.stats import mean_ci

    long = per_seed.reset_index().melt(["setting", "seed"], var_name="split", value_name=score)
    grid = sns.catplot(long, x=score, y="setting", col="split", kind="strip", color="0.6", height=3.2, aspect=1.3)
    t_interval = lambda v: (mean_ci(v).low, mean_ci(v).high)  # noqa: E731 (seaborn wants a callable)
    for ax, (_, part) in zip(grid.axes.flat, long.groupby("split", sort=False)):
        sns.pointplot(part, x=score, y="setting", errorbar=t_interval, linestyle="none", color="C3", ax=ax)
    return grid


def per_class_heatmap(runs: dict[tuple, dict], split: str, ax=None, score: str = "accuracy"):
    """Per-class ``score`` (%: accuracy, or IoU for segmentation) on ``split`` of runs keyed by
    (setting, seed), averaged over seeds: settings as rows, classes as columns. Returns the
    averaged table."""
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    done = {k: r for k, r in runs.items() if "final" in r}
    class_names = next(iter(done.values()))["class_names"]
    table = pd.DataFrame({k: r["final"][split]["per_class"] for k, r in done.items()}, index=class_names).T
    mean = table.groupby(level=0, sort=False).mean() * 100
    ax = ax or plt.subplots(figsize=(9, 3.8))[1]
    sns.heatmap(mean, annot=True, fmt=".0f", cmap="viridis", vmin=0, vmax=100, annot_kws={"fontsize": 7}, ax=ax)
    seeds = {s for _, s in done}
    ax.set_title(f"per-class {score} (%) on {split}, mean over {len(seeds)} seeds")
    return mean


def learning_curves(runs: dict[tuple, dict], splits, seed: int, score: str = "mean per-class accuracy (%)"):
    """Score (%) after every epoch on each split, one line per setting, for one seed of runs
    keyed by (setting, seed); epochs on whole-number ticks, the legend below the panels.
    Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, len(splits), figsize=(4 * len(splits), 3), sharex=True, squeeze=False)
    for (label, s), r in runs.items():
        if s != seed or "final" not in r:
            continue
        for ax, split in zip(axes[0], splits):
            epochs = [h["epoch"] for h in r["history"]]
            ax.plot(epochs, [h[split] * 100 for h in r["history"]], marker="o", label=label)
            ax.set_title(split)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0, 0].set_ylabel(score)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncols=min(4, len(labels)), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08 * ((len(labels) + 3) // 4), 1, 1))
    return fig


# The verdicts' colours, as the site's stylesheet has them (book/_static/csg.css): Okabe and Ito's
# blue and vermilion, which colour-blind readers tell apart, and grey.
VERDICT_COLOURS = {"reproduced": "#0072B2", "contradicted": "#D55E00", "inconclusive": "#7f7f7f"}


def forest_plot(card, target_names: dict | None = None, wrap: int = 48):
    """Each judged claim's paired difference (setting minus reference) with its 95 % CI, one row
    per claim, a marker per target, coloured by verdict; one panel per unit (accuracy points and
    energies do not share an axis), the paper's effect as a hollow diamond where it gives a number.
    ``card`` is :func:`csgbook.claims.judged`'s table; claims not run are left out; ``target_names``
    names its splits in the legend. Returns the figure."""
    import textwrap

    import matplotlib.pyplot as plt
    import seaborn as sns

    done = card[card["n"] >= 2].assign(label=lambda d: d["claim"].map(lambda t: textwrap.fill(t, wrap)))
    units = list(done["unit"].unique())
    rows = [done.loc[done["unit"] == u, "label"].nunique() for u in units]
    fig, axes = plt.subplots(len(units), 1, figsize=(8, 0.5 * sum(rows) + 1.2 * len(units)), squeeze=False,
                             gridspec_kw=dict(height_ratios=rows))  # fmt: skip
    targets = list(done["split"].unique())
    for ax, unit in zip(axes[:, 0], units):
        part = done[done["unit"] == unit]
        labels = list(part["label"].unique())
        offset = {t: (i - (len(targets) - 1) / 2) * 0.3 for i, t in enumerate(targets)}
        y = part["label"].map(labels.index) + part["split"].map(offset)
        ax.hlines(y, part["low"], part["high"], colors=part["kind"].map(VERDICT_COLOURS), lw=2)
        for target, marker in zip(targets, "os"):
            at = part["split"] == target
            if not at.any():  # a claim of the scene benchmarks has no second target
                continue
            sns.scatterplot(x=part["mean"][at], y=y[at], hue=part["kind"][at], palette=VERDICT_COLOURS, marker=marker,
                            s=45, legend=False, ax=ax, zorder=3)  # fmt: skip
        paper = part.drop_duplicates("label").dropna(subset=["paper_effect"])
        ax.scatter(paper["paper_effect"], paper["label"].map(labels.index), marker="D", facecolors="none",
                   edgecolors="black", s=40, zorder=4)  # fmt: skip
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_xlabel(f"setting − reference ({unit}), mean ± 95 % CI over seeds", fontsize=9)
        ax.set_ylabel("")
        ax.grid(axis="x", alpha=0.3)
    handles = [plt.Line2D([], [], color=c, lw=2, label=k) for k, c in VERDICT_COLOURS.items()]
    names = target_names or {}
    handles += [
        plt.Line2D([], [], ls="none", marker=m, color="0.3", label=f"{names.get(t, t)} ({t})" if t in names else t)
        for t, m in zip(targets, "os")
    ]
    handles += [plt.Line2D([], [], ls="none", marker="D", mfc="none", color="black", label="the paper")]
    fig.legend(handles=handles, loc="upper center", ncols=3, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.6 / fig.get_figheight()))
    return fig
