"""Fashion-MNIST from the original IDX ``.gz`` files (Debian ``dataset-fashion-mnist``).

The 60k training set is split once, with a fixed seed, into a training part and a calibration
part. The calibration part is used for monitoring, channel ranking, surrogate fitting and
entropy thresholds; the 10k test set is only ever used for the final, reported figures.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
DATA_ENV = "ENACHI_FMNIST_DIR"
CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
CALIBRATION_SIZE = 5000
SPLIT_SEED = 20240601  # fixed forever: changing it would leak calibration samples into training

_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@dataclass(frozen=True)
class Subset:
    """Images as uint8 [N, 28, 28], labels as int64 [N], and their indices in the source file."""

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def data_dir() -> Path:
    """The IDX directory: ``$ENACHI_FMNIST_DIR`` or the Debian location."""
    return Path(os.environ.get(DATA_ENV, str(DEFAULT_DIR)))


def read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file (optionally gzip-compressed) into a uint8 array of its declared shape."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"Fashion-MNIST file {path} not found: install the Debian package "
            f"'dataset-fashion-mnist' or set {DATA_ENV} to a folder with the IDX .gz files"
        ) from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (bad magic {raw[:4]!r})")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(np.int64)
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(raw) - offset != expected:
        raise ValueError(f"{path}: header says {expected} values, file holds {len(raw) - offset}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(tuple(dims))


def _load(part: str, directory: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    folder = directory or data_dir()
    images_name, labels_name = _FILES[part]
    images = read_idx(folder / images_name)
    labels = read_idx(folder / labels_name).astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{part}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images, labels


def calibration_indices(n_train: int = 60000) -> np.ndarray:
    """Sorted indices of the fixed calibration part of the 60k training file."""
    perm = np.random.default_rng(SPLIT_SEED).permutation(n_train)
    return np.sort(perm[:CALIBRATION_SIZE])


def load_split(name: str, directory: Path | None = None) -> Subset:
    """Load ``train`` (55k), ``calibration`` (5k, carved from train) or ``test`` (10k)."""
    if name not in ("train", "calibration", "test"):
        raise ValueError(f"split name must be 'train', 'calibration' or 'test', got {name!r}")
    if name == "test":
        images, labels = _load("test", directory)
        return Subset(images, labels, np.arange(labels.shape[0]))
    images, labels = _load("train", directory)
    calib = calibration_indices(labels.shape[0])
    if name == "calibration":
        idx = calib
    else:
        mask = np.ones(labels.shape[0], dtype=bool)
        mask[calib] = False
        idx = np.flatnonzero(mask)
    return Subset(images[idx], labels[idx], idx)
