"""Outcomes of progressive reception, and channel-importance rankings, from the real model.

For a split with packet layouts ``L_1..L_K`` (importance order), the edge after ``k`` packets
holds the quantized feature on ``L_1..L_k`` and the per-channel mean elsewhere. This module
runs exactly that (the same ``core`` quantization and prefix fill as the nodes) through the tail
for every sample and every ``k = 0..K`` and records prediction, correctness and normalized
entropy. ``targets`` are labels where the data set has them, otherwise the full model's own
predictions (then "accuracy" means agreement with the full model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional

from enachi_ros.core.packets import PacketLayout, packet_index_map, prefix_fill
from enachi_ros.core.quantize import fake_quantize
from enachi_ros.models.splitting import SplitModel

IMPORTANCE_METHODS = ("natural", "mask_drop", "fisher", "variance")


@dataclass(frozen=True)
class Outcomes:
    """``pred``, ``correct`` and ``entropy`` as ``[S, len(k)]`` arrays; column j = ``k[j]``
    packets received (by default ``k = 0..K``)."""

    pred: np.ndarray
    correct: np.ndarray
    entropy: np.ndarray
    k: np.ndarray

    def accuracy(self) -> np.ndarray:
        return self.correct.mean(axis=0)

    def expanded(self) -> Outcomes:
        """Every k = 0..K, each column copied from the largest measured ``k`` at or below it.

        For splits with many packets only a k-grid is measured (calibration time); the step
        is a lower bound where the outcome improves with k, and the early stop read from it
        fires at a grid point, never before (it uses at least as many packets as it would)."""
        k_max = int(self.k[-1])
        if self.k.size == k_max + 1:
            return self
        col = np.searchsorted(self.k, np.arange(k_max + 1), side="right") - 1
        return Outcomes(self.pred[:, col], self.correct[:, col], self.entropy[:, col],
                        np.arange(k_max + 1))


def _entropy(logits: torch.Tensor) -> torch.Tensor:
    logp = functional.log_softmax(logits.double(), dim=1)
    return -(logp.exp() * logp).sum(1) / np.log(logits.shape[1])


@torch.no_grad()
def predict(model: SplitModel, images: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """Full-model top-1 predictions."""
    model.eval()
    return torch.cat([model(images[i:i + batch]).argmax(1) for i in range(0, len(images), batch)])


@torch.no_grad()
def head_features(
    model: SplitModel, split: int, images: torch.Tensor, batch: int = 500
) -> torch.Tensor:
    """Head outputs for all images, ``[N, C, H, W]`` float32."""
    model.eval()
    return torch.cat([model.head(images[i:i + batch], split) for i in range(0, len(images), batch)])


@torch.no_grad()
def progressive_outcomes(
    model: SplitModel,
    split: int,
    images: torch.Tensor,
    targets: np.ndarray,
    *,
    layouts: Sequence[PacketLayout],
    channel_mean: np.ndarray | None,
    bits: int | None = 8,
    k_values: Sequence[int] | None = None,
    batch: int | None = None,
) -> Outcomes:
    """Outcomes after k = 0..K packets, or only ``k_values`` (mean fill elsewhere);
    ``bits=None`` skips quantization. ``batch`` defaults to ~1M input values per batch
    (``eval_batch``).

    For ``device_only`` (``channel_mean`` is None) K = 0 and column 0 is the full model.
    """
    model.eval()
    point = model.split(split)
    k_max = 0 if point.kind == "device_only" else len(layouts)
    ks = np.arange(k_max + 1) if k_values is None else np.asarray(k_values, dtype=np.int64)
    if ks.size == 0 or ks.min() < 0 or ks.max() > k_max:
        raise ValueError(f"k_values must lie in 0..{k_max}, got {ks.tolist()}")
    pred = np.zeros((len(images), ks.size), dtype=np.int64)
    ent = np.zeros((len(images), ks.size), dtype=np.float32)
    owner = None
    batch = batch or eval_batch(images)
    for i in range(0, len(images), batch):
        feats = model.head(images[i:i + batch], split)
        if point.kind == "device_only":
            logit_list = [feats]
        else:
            arr = feats.numpy()
            if owner is None:
                owner = packet_index_map(arr.shape[1:], layouts)
            xq = fake_quantize(arr, bits) if bits else arr
            logit_list = [
                model.tail(torch.from_numpy(prefix_fill(xq, owner, k, channel_mean)), split)
                for k in ks
            ]
        for k, logits in enumerate(logit_list):
            pred[i:i + batch, k] = logits.argmax(1).numpy()
            ent[i:i + batch, k] = _entropy(logits).numpy()
    correct = pred == np.asarray(targets)[:, None]
    return Outcomes(pred, correct, ent, ks)


def eval_batch(images: torch.Tensor, values: int = 1 << 20, most: int = 500) -> int:
    """Samples per batch so that a batch holds about ``values`` input values. Large inputs
    are memory-bound on the CPU: the 160 px Lite0 ran 24.7 ms/sample at batch 16 and
    47.7 ms/sample at batch 300 on this machine (2 threads); 28x28 inputs keep batches of 500."""
    per_sample = max(1, int(np.prod(images.shape[1:])))
    return max(1, min(most, values // per_sample))


FIRST_KS = 4  # every k up to this one is measured: the first packets decide a partial answer


def k_grid(k_max: int, points: int = 17) -> np.ndarray:
    """All of 0..K when small, else ``points`` evenly spread values (always 0 and K) and every
    k from 0 to ``FIRST_KS``: a task that holds a few packets is read at what it holds, not at
    k = 0 (the accuracy rises fastest over the first packets)."""
    if k_max + 1 <= points:
        return np.arange(k_max + 1)
    spread = np.linspace(0, k_max, points).round().astype(np.int64)
    return np.unique(np.concatenate([spread, np.arange(min(FIRST_KS, k_max) + 1)]))


@torch.no_grad()
def rank_channels(
    method: str,
    model: SplitModel,
    split: int,
    features: torch.Tensor,
    targets: np.ndarray,
    *,
    channel_mean: np.ndarray,
    batch: int = 500,
) -> list[int]:
    """Channel indices, most important first, by ``method`` (computed on calibration data).

    - ``natural``: channel order as trained (nested dropout makes it an importance order).
    - ``mask_drop``: cross-entropy increase when the channel alone is replaced by its mean.
    - ``fisher``: between-class / within-class variance of the spatially pooled channel.
    - ``variance``: mean squared deviation from the fill value, i.e. the distortion mean fill
      causes if the channel is missing (label-free).
    """
    c = features.shape[1]
    if method == "natural":
        return list(range(c))
    y = torch.as_tensor(np.asarray(targets))
    mean = torch.as_tensor(channel_mean, dtype=features.dtype)
    if method == "variance":
        score = ((features - mean.view(1, c, 1, 1)) ** 2).mean(dim=(0, 2, 3))
    elif method == "fisher":
        pooled = features.mean(dim=(2, 3)).double()
        mu = pooled.mean(0)
        between = torch.zeros(c, dtype=torch.float64)
        within = torch.zeros(c, dtype=torch.float64)
        for cls in torch.unique(y):
            grp = pooled[y == cls]
            between += len(grp) * (grp.mean(0) - mu) ** 2
            within += ((grp - grp.mean(0)) ** 2).sum(0)
        score = between / (within + 1e-12)
    elif method == "mask_drop":
        def loss_of(f: torch.Tensor) -> float:
            return float(sum(
                functional.cross_entropy(model.tail(f[i:i + batch], split), y[i:i + batch],
                                         reduction="sum")
                for i in range(0, len(f), batch)
            ))
        base = loss_of(features)
        score = torch.zeros(c, dtype=torch.float64)
        for ch in range(c):
            masked = features.clone()
            masked[:, ch] = mean[ch]
            score[ch] = loss_of(masked) - base
    else:
        raise ValueError(f"importance method must be one of {IMPORTANCE_METHODS}, got {method!r}")
    return [int(v) for v in torch.argsort(score, descending=True, stable=True)]
