"""Labelled camera-size frames: Fashion-MNIST items composited onto natural-photo backgrounds.

What this is: a labelled *proxy* for what a robot camera sees (an object of one of ten classes
somewhere in a cluttered scene, at some scale, colour and focus), built offline from what the
machine has. It is not ImageNet and its accuracy is not ImageNet accuracy. It exists because
no labelled camera-size image set can be had here (see shared/docs/MODELS_AND_DATA.md), and
28x28 inputs make split inference trivial (every intermediate feature is larger than the image).

How a frame is made (all parameters fixed here, before any model was trained on it):
- background: a random crop (40-100% of the shorter side, random position, random mirror) of a
  natural photo or a video frame, resized to ``size`` x ``size``;
- object: a Fashion-MNIST item resized to 35-80% of the frame side, random horizontal mirror,
  made opaque by a soft mask of its silhouette (the item's pixels above a small threshold,
  slightly blurred), its luminance texture kept and tinted by a random colour;
- camera: brightness and contrast jitter, Gaussian defocus blur (sigma 0-1.5 px) and sensor noise
  (sigma 0-4 grey levels).
Each frame is a pure function of (split, index): a seeded generator per frame, so the set is
deterministic and nothing needs to be stored (``enachi frames`` writes PNGs to look at).

Splits are disjoint twice: items come from the Fashion-MNIST part of the same name (train /
calibration carved from the 60k training file, test = the 10k test file, ``models.data``), and
backgrounds come from disjoint *source photos*, so the test backgrounds are never seen in
training or calibration. Sources: the opencv-doc sample photos and the pedestrian video
``vtest.avi`` (Debian package ``opencv-doc``) and the natural photographs bundled in the
scikit-image wheel and matplotlib (``models.photos``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from enachi_ros.models.data import Subset, load_split

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
DEFAULT_SIZE = 160
SEED = 20261201  # fixed forever: a frame is a function of (SEED, split, index)
SPLIT_SIZES = {"train": 30000, "calibration": 5000, "test": 10000}
_SPLIT_CODE = {"train": 0, "calibration": 1, "test": 2}

# Background sources by split (disjoint). Photos of natural scenes only: logos, renders,
# cartoons, paintings, text pages, charts and calibration targets are left out.
_OPENCV_PHOTOS = {
    "train": ("aero1.jpg", "aero3.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg", "board.jpg",
              "box_in_scene.png", "butterfly.jpg", "chicky_512.png", "ela_original.jpg",
              "graf1.png", "left.jpg", "licenseplate_motion.jpg", "orange.jpg",
              "rubberwhale1.png", "smarties.png"),
    "calibration": ("building.jpg", "messi5.jpg", "stuff.jpg"),
    "test": ("leuvenA.jpg", "home.jpg", "fruits.jpg", "squirrel_cls.jpg", "basketball1.png"),
}
_SKIMAGE_PHOTOS = {
    "train": ("astronaut.png", "rocket.jpg", "camera.png", "motorcycle_left.png"),
    "calibration": ("coffee.png",),
    "test": ("chelsea.png",),
}
_MATPLOTLIB_PHOTOS = {"train": ("grace_hopper.jpg",), "calibration": (), "test": ()}
_VIDEOS = {"train": (), "calibration": (), "test": ("vtest.avi",)}
VIDEO_FRAME_STEP = 4  # every 4th frame of a video is a background (neighbours are near copies)


@dataclass(frozen=True)
class Frame:
    """One labelled frame: ``image`` uint8 ``[size, size, 3]`` RGB, its class and provenance."""

    image: np.ndarray
    label: int
    item_index: int  # index of the item in its Fashion-MNIST source file
    background: str  # source photo (and video frame) of the background


def background_sources(split: str) -> list[str]:
    """Names of the background sources of ``split`` (``opencv:NAME``, ``skimage:NAME``, ...)."""
    _check(split)
    return ([f"opencv:{n}" for n in _OPENCV_PHOTOS[split]]
            + [f"skimage:{n}" for n in _SKIMAGE_PHOTOS[split]]
            + [f"matplotlib:{n}" for n in _MATPLOTLIB_PHOTOS[split]]
            + [f"video:{n}" for n in _VIDEOS[split]])


def _check(split: str) -> None:
    if split not in _SPLIT_CODE:
        raise ValueError(f"split: expected one of {list(_SPLIT_CODE)}, got {split!r}")


def _read_rgb(path: Path) -> np.ndarray:
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(
            f"background {path} cannot be read: install the Debian package 'opencv-doc' "
            "(make setup does) or check the file")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _source_path(source: str) -> Path:
    kind, name = source.split(":", 1)
    if kind in ("opencv", "video"):
        return OPENCV_DATA / name
    if kind == "skimage":
        import skimage

        return Path(skimage.__file__).parent / "data" / name
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data" / name


def _video_frames(path: Path) -> list[np.ndarray]:
    import cv2

    capture = cv2.VideoCapture(str(path))
    frames, i = [], 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if i % VIDEO_FRAME_STEP == 0:
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        i += 1
    capture.release()
    if not frames:
        raise FileNotFoundError(f"video {path}: no frame could be decoded (opencv-doc missing?)")
    return frames


@functools.lru_cache(maxsize=3)
def backgrounds(split: str) -> tuple[tuple[str, tuple[np.ndarray, ...]], ...]:
    """Every background source of ``split`` with its images (one per photo, every
    ``VIDEO_FRAME_STEP``-th frame of a video). A frame picks a source uniformly, then one of
    its images, so a long video does not outweigh the photos."""
    out: list[tuple[str, tuple[np.ndarray, ...]]] = []
    for source in background_sources(split):
        path = _source_path(source)
        if source.startswith("video:"):
            out.append((source, tuple(_video_frames(path))))
        else:
            img = _read_rgb(path)
            out.append((source, (img if img.ndim == 3 else np.repeat(img[..., None], 3, -1),)))
    return tuple(out)


@functools.lru_cache(maxsize=3)
def items(split: str) -> Subset:
    """The Fashion-MNIST part whose items appear in ``split``."""
    _check(split)
    return load_split(split)


def _background(img: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    side = int(min(h, w) * rng.uniform(0.4, 1.0))
    y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    crop = img[y:y + side, x:x + side]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return cv2.resize(np.ascontiguousarray(crop), (size, size), interpolation=cv2.INTER_AREA)


def _paste(frame: np.ndarray, item: np.ndarray, rng: np.random.Generator) -> None:
    import cv2

    size = frame.shape[0]
    side = round(size * rng.uniform(0.35, 0.8))
    obj = cv2.resize(item, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
    obj = np.clip(obj, 0.0, 1.0)
    if rng.random() < 0.5:
        obj = obj[:, ::-1]
    mask = cv2.GaussianBlur((obj > 0.04).astype(np.float32), (0, 0), sigmaX=max(side / 56, 0.5))
    colour = rng.uniform(0.15, 1.0, 3).astype(np.float32)
    texture = (0.25 + 0.75 * obj)[..., None] * colour[None, None, :] * 255.0
    y, x = int(rng.integers(0, size - side + 1)), int(rng.integers(0, size - side + 1))
    region = frame[y:y + side, x:x + side].astype(np.float32)
    alpha = mask[..., None]
    frame[y:y + side, x:x + side] = (alpha * texture + (1 - alpha) * region).astype(np.uint8)


def _camera(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    import cv2

    img = frame.astype(np.float32)
    img = (img - 128.0) * rng.uniform(0.75, 1.25) + 128.0 + rng.uniform(-25, 25)
    sigma = rng.uniform(0.0, 1.5)
    if sigma > 0.2:
        img = cv2.GaussianBlur(img, (0, 0), sigmaX=sigma)
    img += rng.normal(0.0, rng.uniform(0.0, 4.0), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def frame(split: str, index: int, size: int = DEFAULT_SIZE) -> Frame:
    """Frame ``index`` of ``split`` (deterministic). Item ``index`` of the split's item list is
    used in order (wrapping if the split has more frames than items)."""
    _check(split)
    count = SPLIT_SIZES[split]
    if not 0 <= index < count:
        raise ValueError(f"index: expected 0 <= index < {count} for {split}, got {index}")
    if size < 32:
        raise ValueError(f"size: expected >= 32 pixels, got {size}")
    rng = np.random.default_rng([SEED, _SPLIT_CODE[split], index, size])
    pool = backgrounds(split)
    name, images = pool[int(rng.integers(0, len(pool)))]
    pick = int(rng.integers(0, len(images)))
    if len(images) > 1:
        name = f"{name}#{VIDEO_FRAME_STEP * pick}"
    image = _background(images[pick], size, rng)
    data = items(split)
    k = index % len(data)
    _paste(image, data.images[k], rng)
    return Frame(_camera(image, rng), int(data.labels[k]), int(data.indices[k]), name)


def batches(split: str, indices, size: int = DEFAULT_SIZE, batch_size: int = 64
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(images uint8 [B, size, size, 3], labels int64 [B])`` over ``indices`` in order."""
    indices = list(indices)
    for start in range(0, len(indices), batch_size):
        chunk = [frame(split, int(i), size) for i in indices[start:start + batch_size]]
        yield (np.stack([f.image for f in chunk]),
               np.array([f.label for f in chunk], dtype=np.int64))


def materialize(split: str, count: int, size: int = DEFAULT_SIZE
                ) -> tuple[np.ndarray, np.ndarray]:
    """The first ``count`` frames of ``split`` in memory (training reads each one per epoch;
    generating them once saves a fifth of a CPU training step)."""
    images = np.empty((count, size, size, 3), dtype=np.uint8)
    labels = np.empty(count, dtype=np.int64)
    for i in range(count):
        f = frame(split, i, size)
        images[i], labels[i] = f.image, f.label
    return images, labels


def write_frames(out: Path, split: str, count: int, size: int = DEFAULT_SIZE,
                 start: int = 0) -> Path:
    """PNG files ``<split>_<index>_<class>.png``, ``labels.csv`` and a contact sheet."""
    import csv

    import cv2

    from enachi_ros.models.data import CLASS_NAMES

    out.mkdir(parents=True, exist_ok=True)
    made = [frame(split, i, size) for i in range(start, min(start + count, SPLIT_SIZES[split]))]
    if not made:
        raise ValueError(f"--count/--start: no frame of {split} in [{start}, {start + count})")
    with (out / "labels.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("file", "split", "index", "label", "class", "item_index", "background"))
        for i, f in enumerate(made, start=start):
            name = f"{split}_{i:05d}_{f.label}.png"
            cv2.imwrite(str(out / name), cv2.cvtColor(f.image, cv2.COLOR_RGB2BGR))
            writer.writerow((name, split, i, f.label, CLASS_NAMES[f.label], f.item_index,
                             f.background))
    cols = min(8, len(made))
    rows = [np.hstack([f.image for f in made[r:r + cols]] + [np.zeros_like(made[0].image)] *
                      (cols - len(made[r:r + cols]))) for r in range(0, min(len(made), 64), cols)]
    sheet = out / f"{split}_contact_sheet.png"
    cv2.imwrite(str(sheet), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
    return sheet
