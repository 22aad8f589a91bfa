"""On-disk cache of generated arrays (the offline benchmark), as ``.npy`` memory maps.

Layout: ``<cache_dir>/<dataset>/<split>-<key>/{images.npy, labels.npy, meta.json}``
where ``key`` hashes every parameter that changes the arrays (and the generator
version), so a changed parameter never reads stale data. ``.npy`` files are opened
with ``mmap_mode="r"``: loading is instant and batches slice straight from the page
cache, which suits the training engine's batched access.

Writes go to a private temporary folder renamed into place at the end, so an
interrupted or concurrent generation never leaves a half-written entry behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .common import default_cache_dir

# Bump when the generators change what they produce for the same parameters.
GENERATOR_VERSION = 1


def cache_key(params: dict) -> str:
    """Short stable hash of the JSON-serialisable ``params`` plus the generator version."""
    payload = json.dumps({"generator_version": GENERATOR_VERSION, **params}, sort_keys=True)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:12]


def _load(folder: Path, mmap: bool) -> tuple[np.ndarray, np.ndarray, dict]:
    mode = "r" if mmap else None
    images = np.load(folder / "images.npy", mmap_mode=mode)
    labels = np.load(folder / "labels.npy", mmap_mode=mode)
    meta = json.loads((folder / "meta.json").read_text())
    return images, labels, meta


def cached_arrays(
    cache_dir: Path | None, dataset: str, split: str, params: dict, build: Callable[[], tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Return ``(images, labels, meta)`` for (dataset, split, params), building if needed.

    ``build()`` returns the two arrays. With ``cache_dir=None`` nothing touches the disk
    and the arrays are returned as built. ``meta`` records the parameters, the
    generator version and the build time in seconds (``generation_seconds``).
    """
    if cache_dir is None:
        start = time.perf_counter()
        images, labels = build()
        meta = {"params": params, "generation_seconds": time.perf_counter() - start}
        return images, labels, meta

    folder = Path(cache_dir) / dataset / f"{split}-{cache_key(params)}"
    if (folder / "meta.json").is_file():
        return _load(folder, mmap=True)

    folder.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    images, labels = build()
    seconds = time.perf_counter() - start
    meta = {
        "dataset": dataset,
        "split": split,
        "params": params,
        "generator_version": GENERATOR_VERSION,
        "generation_seconds": round(seconds, 3),
        "num_items": int(len(images)),
        "image_shape": list(images.shape[1:]),
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        np.save(tmp / "images.npy", images)
        np.save(tmp / "labels.npy", labels)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        try:
            os.rename(tmp, folder)
        except OSError:
            # Another process finished the same entry first; theirs is identical.
            if not (folder / "meta.json").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return _load(folder, mmap=True)


def generated_arrays(
    dataset: str,
    split: str,
    params: dict,
    build: Callable[[], tuple[np.ndarray, np.ndarray]],
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """:func:`cached_arrays` with a generated dataset's cache options.

    ``cache_dir=None`` means :func:`csg.data.common.default_cache_dir`; ``use_cache=False``
    builds in memory and writes nothing.
    """
    root = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) if use_cache else None
    return cached_arrays(root, dataset, split, params, build)
