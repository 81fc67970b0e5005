"""Offline photos for the ImageNet agreement measurement: real files, distinct, never fetched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enachi_ros.models.photos import SKIMAGE_PHOTOS, load_photos


def test_bundled_photos_are_distinct_and_give_twelve_views_each() -> None:
    pytest.importorskip("skimage")
    photos = load_photos(size=64)
    assert len(photos.names) == len(SKIMAGE_PHOTOS) + 1  # + matplotlib's grace_hopper
    assert photos.views.shape == (12 * len(photos.names), 3, 64, 64)
    assert np.bincount(photos.photo_of_view).tolist() == [12] * len(photos.names)
    assert float(photos.views.min()) >= 0.0 and float(photos.views.max()) <= 1.0
    centre = photos.views[::12]  # the first view of each photo
    digests = {hashlib.sha256(v.numpy().tobytes()).hexdigest() for v in centre}
    assert len(digests) == len(photos.names)


def test_images_folder_is_used_and_an_empty_one_is_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for i, size in enumerate([(40, 60), (80, 50)]):
        arr = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        Image.fromarray(arr).save(tmp_path / f"p{i}.png")
    (tmp_path / "notes.txt").write_text("not a photo")
    photos = load_photos(tmp_path, size=32)
    assert photos.names == ["p0.png", "p1.png"]
    assert photos.views.shape == (24, 3, 32, 32)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="--images"):
        load_photos(empty)
