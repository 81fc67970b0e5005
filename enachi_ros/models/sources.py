"""Evaluation data for calibration: a calibration part and a held-out part, per model family.

Fashion-MNIST models use the fixed calibration split (carved from train) and the 10k test set,
with labels. ImageNet models use offline photos without labels: targets are the full model's
own predictions, so every "accuracy" is *agreement with the full model* (never ImageNet
accuracy); calibration and held-out views come from different photos when there are at least two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from enachi_ros.models.evaluation import predict
from enachi_ros.models.splitting import SplitModel


@dataclass(frozen=True)
class EvalData:
    """Inputs in [0, 1] with targets; ``test_index`` indexes the held-out source set."""

    calib_x: torch.Tensor
    calib_y: np.ndarray
    test_x: torch.Tensor
    test_y: np.ndarray
    test_index: np.ndarray
    accuracy_kind: str  # "accuracy" (labels) or "agreement_with_full_model"
    description: str
    extra: dict = field(default_factory=dict)


def _even_subset(n: int, limit: int | None) -> np.ndarray:
    """``limit`` indices spread evenly over ``0..n-1`` (all when ``limit`` is None)."""
    if limit is None or limit >= n:
        return np.arange(n)
    if limit < 1:
        raise ValueError(f"samples must be >= 1, got {limit}")
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def fmnist_data(samples: int | None = None, test_index: np.ndarray | None = None) -> EvalData:
    from enachi_ros.models.data import load_split
    from enachi_ros.models.train import to_tensor

    calib, test = load_split("calibration"), load_split("test")
    ci = _even_subset(len(calib), samples)
    ti = _even_subset(len(test), samples) if test_index is None else np.asarray(test_index)
    return EvalData(
        to_tensor(calib.images[ci]), calib.labels[ci], to_tensor(test.images[ti]),
        test.labels[ti], ti, "accuracy",
        f"Fashion-MNIST: {len(ci)} calibration samples (carved from train), {len(ti)} test samples",
    )


def photo_data(
    model: SplitModel, images: Path | None, samples: int | None = None,
    test_index: np.ndarray | None = None,
) -> EvalData:
    from enachi_ros.models.photos import load_photos

    size = model.input_shape[-1]
    photos = load_photos(images, size)
    n_photos = len(photos.names)
    if n_photos >= 2:
        calib_mask = photos.photo_of_view % 2 == 0
        how = "calibration on even-numbered photos, held-out on odd-numbered photos"
    else:
        calib_mask = np.arange(len(photos.views)) % 2 == 0
        how = "single photo: calibration on unmirrored views, held-out on mirrored views"
    ci = np.flatnonzero(calib_mask)
    held = np.flatnonzero(~calib_mask)
    ti = held[_even_subset(len(held), samples)] if test_index is None else np.asarray(test_index)
    targets = predict(model, photos.views).numpy()
    first_view = np.searchsorted(photos.photo_of_view, np.arange(n_photos))
    top1 = {name: model.class_names[int(targets[i])]
            for name, i in zip(photos.names, first_view, strict=True)}
    return EvalData(
        photos.views[ci], targets[ci], photos.views[ti], targets[ti], ti,
        "agreement_with_full_model",
        f"{n_photos} offline photo(s) {photos.names} x 12 views; {how}; targets are the full "
        f"model's predictions (agreement, not ImageNet accuracy)",
        {"full_model_top1_on_centre_view": top1},
    )


def frames_data(samples: int | None = None, test_index: np.ndarray | None = None,
                calibration_samples: int | None = None) -> EvalData:
    """The labelled camera frames (``models.frames``): calibration frames and held-out test
    frames, with their Fashion-MNIST labels; backgrounds of the two never share a photo."""
    from enachi_ros.models.frames import SPLIT_SIZES, batches
    from enachi_ros.models.train_frames import to_tensor

    def load(split: str, idx: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        xs, ys = [], []
        for images, labels in batches(split, idx, batch_size=200):
            xs.append(to_tensor(images))
            ys.append(labels)
        return torch.cat(xs), np.concatenate(ys)

    ci = _even_subset(SPLIT_SIZES["calibration"], calibration_samples or samples)
    ti = (_even_subset(SPLIT_SIZES["test"], samples) if test_index is None
          else np.asarray(test_index))
    cx, cy = load("calibration", ci)
    tx, ty = load("test", ti)
    return EvalData(cx, cy, tx, ty, ti, "accuracy",
                    f"labelled camera frames (Fashion-MNIST items on natural photos, 160x160, "
                    f"models/frames.py): {len(ci)} calibration frames, {len(ti)} test frames "
                    f"(test backgrounds from photos never seen in training or calibration)")
