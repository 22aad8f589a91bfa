"""Shared pieces of the data package: error types, image reading, default folders.

Every loader reports bad input through the two error types below, with the offending
path (and line number where there is one) and what would have been accepted, because
the real datasets cannot be downloaded on our machines and a vague error there costs a
user hours.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError


class DatasetNotFoundError(FileNotFoundError):
    """A dataset root, list file, image or label map is missing."""


class DatasetFormatError(ValueError):
    """A file exists but its content does not follow the dataset's documented format."""


def repo_root() -> Path | None:
    """The csg-book checkout this package lives in, or None when installed elsewhere."""
    candidate = Path(__file__).resolve().parents[2]
    return candidate if (candidate / "pyproject.toml").is_file() else None


def default_cache_dir() -> Path:
    """Where the offline benchmark is cached.

    ``$CSG_DATA_DIR`` wins; otherwise ``<repo>/data/cache`` (git-ignored) when running
    from a checkout; otherwise ``~/.cache/csg-book``.
    """
    env = os.environ.get("CSG_DATA_DIR")
    if env:
        return Path(env).expanduser()
    root = repo_root()
    if root is not None:
        return root / "data" / "cache"
    return Path.home() / ".cache" / "csg-book"


def default_data_root() -> Path:
    """The folder holding the real datasets (``visda17/``, ``gta5/``, ``cityscapes/``).

    ``$CSG_DATA_ROOT`` wins; otherwise ``<repo>/data`` (the book's default ``data_root``).
    """
    env = os.environ.get("CSG_DATA_ROOT")
    if env:
        return Path(env).expanduser()
    root = repo_root()
    return (root / "data") if root is not None else Path.cwd() / "data"


def require_dir(path: Path, dataset: str, layout: str, source: str) -> Path:
    """Return ``path`` if it is a directory, else raise an error that says how to fix it."""
    path = Path(path)
    if not path.is_dir():
        raise DatasetNotFoundError(
            f"{dataset}: directory not found: {path}\n"
            f"Expected layout:\n{layout}\n"
            f"Get the data from: {source} (see data/README.md)."
        )
    return path


def open_rgb(path: Path) -> Image.Image:
    """Open an image file as RGB (greyscale, palette and RGBA files are converted).

    The file is fully decoded here so that truncated files fail now, naming the file,
    rather than later inside a transform.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"image file not found: {path}")
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise DatasetFormatError(f"cannot read image file {path}: {err}") from err


def read_label_indices(path: Path) -> np.ndarray:
    """Read a label PNG as its raw integer values, shape (H, W), dtype uint8.

    Palettised ("P") PNGs are read as their palette *indices*: for GTA5 those indices
    are the Cityscapes label IDs (reading the colours, or OpenCV's greyscale
    conversion of them, gives wrong values). Greyscale ("L") PNGs are read as they
    are. Colour PNGs are rejected because their values are not IDs.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"label file not found: {path}")
    try:
        with Image.open(path) as img:
            if img.mode not in ("P", "L"):
                raise DatasetFormatError(
                    f"label file {path} has PIL mode {img.mode!r}; expected a palettised "
                    "('P') or 8-bit greyscale ('L') PNG whose values are label IDs "
                    "(colour-coded label images are not accepted)"
                )
            return np.array(img, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise DatasetFormatError(f"cannot read label file {path}: {err}") from err
