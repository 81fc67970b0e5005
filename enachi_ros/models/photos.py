"""Real photos available offline, for ImageNet models (agreement demos, feature statistics).

Sources: ``--images DIR`` (any .jpg/.jpeg/.png), or else the photographs bundled inside the
scikit-image wheel (read as files from its ``skimage/data`` folder, so nothing is ever fetched:
``skimage.data`` functions may download on demand) plus matplotlib's bundled sample photo.
Each photo gives several views (centre and corner crops, each also mirrored) so the small
offline set yields enough inputs; which views come from which photo is recorded so calibration
and evaluation can be kept on different photos.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
# Natural photographs among the files in the scikit-image wheel (its textures, binary masks and
# text pages are left out; ``cat`` is ``chelsea`` again, so it is not listed).
SKIMAGE_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "camera.png",
                  "coins.png", "ihc.png", "hubble_deep_field.jpg", "motorcycle_left.png",
                  "retina.jpg", "moon.png")


@dataclass(frozen=True)
class PhotoSet:
    """Views ``[N, 3, S, S]`` in [0, 1], the photo each view comes from, and photo names."""

    views: torch.Tensor
    photo_of_view: np.ndarray
    names: list[str]


def _from_files(folder: Path) -> list[tuple[str, np.ndarray]]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"--images: no {IMAGE_SUFFIXES} files in {folder}")
    return [(p.name, _read_rgb(p)) for p in files]


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def _builtin() -> list[tuple[str, np.ndarray]]:
    photos: list[tuple[str, np.ndarray]] = []
    try:
        import skimage

        folder = Path(skimage.__file__).parent / "data"
        photos += [(f"skimage:{name}", _read_rgb(folder / name))
                   for name in SKIMAGE_PHOTOS if (folder / name).is_file()]
    except ImportError:
        pass
    import matplotlib

    sample = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if sample.is_file():
        photos.append(("matplotlib:grace_hopper.jpg", _read_rgb(sample)))
    if not photos:
        raise FileNotFoundError("no offline photos found: pass --images DIR")
    return photos


def _views(img: np.ndarray, size: int) -> list[torch.Tensor]:
    t = torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1).float().div(255.0)
    h, w = t.shape[1:]
    side = min(h, w)
    crops = []
    for frac in (1.0, 0.8):
        s = int(side * frac)
        anchors = [((h - s) // 2, (w - s) // 2)]
        if frac < 1.0:
            anchors += [(0, 0), (0, w - s), (h - s, 0), (h - s, w - s)]
        crops += [t[:, y:y + s, x:x + s] for y, x in anchors]
    out = []
    for c in crops:
        r = functional.interpolate(c[None], size=(size, size), mode="bilinear",
                                   antialias=True, align_corners=False)[0].clamp(0, 1)
        out += [r, r.flip(-1)]
    return out


def load_photos(folder: Path | None = None, size: int = 224) -> PhotoSet:
    """Load offline photos as ``size`` x ``size`` views (12 per photo)."""
    photos = _from_files(folder) if folder else _builtin()
    views, owner = [], []
    for i, (_, img) in enumerate(photos):
        v = _views(img, size)
        views += v
        owner += [i] * len(v)
    return PhotoSet(torch.stack(views), np.asarray(owner), [n for n, _ in photos])
