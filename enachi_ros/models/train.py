"""``enachi train``: train a registered trainable model (``fmnist_resnet``) on this machine.

Training uses only the 55k training part; the 5k calibration part is used for monitoring and the
10k test set is evaluated once, at the end, for the reported figure. After training, the
per-channel fill means are recomputed exactly over the training part (eval mode, no
augmentation) so the edge's mean fill matches what the tail saw on average.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from enachi_ros.models.data import Subset, load_split
from enachi_ros.models.fmnist_resnet import FmnistResNet


@dataclass
class TrainConfig:
    """Knobs of one training run (defaults reproduce the committed checkpoint)."""

    epochs: int = 12
    batch_size: int = 128
    max_lr: float = 4e-3
    weight_decay: float = 5e-4
    dropout_p: float = 0.5
    seed: int = 0
    threads: int = 2
    max_train_samples: int | None = None
    max_eval_samples: int | None = None


@dataclass
class TrainResult:
    """What the run measured; written next to the checkpoint as ``train_log.json``."""

    config: dict
    train_seconds: float
    calibration_accuracy: float
    calibration_accuracy_quarter_channels: dict[str, float]
    test_accuracy: float
    history: list[dict] = field(default_factory=list)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 [N, 28, 28] -> float [N, 1, 28, 28] in [0, 1] (normalization is inside the model)."""
    return torch.from_numpy(np.array(images)).float().div_(255.0).unsqueeze(1)


def augment(x: torch.Tensor, gen: torch.Generator, pad: int = 2) -> torch.Tensor:
    """Random crop with zero padding and random horizontal flip, per sample, vectorized."""
    n, _, h, w = x.shape
    padded = functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, :, None]
    cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, :]
    flip = torch.rand(n, generator=gen) < 0.5
    cols = torch.where(flip[:, None, None], cols.flip(-1), cols)
    return padded[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)


def _batches(data: Subset, batch_size: int = 1000):
    """``(images, labels)`` tensors of ``data`` in order."""
    x_all, y_all = to_tensor(data.images), torch.from_numpy(data.labels)
    for i in range(0, len(data), batch_size):
        yield x_all[i:i + batch_size], y_all[i:i + batch_size]


def evaluate(model: FmnistResNet, data: Subset, keep_fraction: float = 1.0,
             split: str | None = None) -> float:
    """Accuracy; with ``split`` set, only the first ``keep_fraction`` channels are kept there."""
    return model.accuracy(_batches(data), cut=split, keep_fraction=keep_fraction)


def recompute_channel_means(model: FmnistResNet, data: Subset) -> None:
    """Exact per-channel means of each cut's feature over ``data`` (the edge's fill values)."""
    model.set_channel_means(x for x, _ in _batches(data))


def _limit(data: Subset, n: int | None) -> Subset:
    if n is None or n >= len(data):
        return data
    return Subset(data.images[:n], data.labels[:n], data.indices[:n])


def train(
    config: TrainConfig, out: Path | None = None, log=print
) -> tuple[FmnistResNet, TrainResult]:
    """Train ``fmnist_resnet``; save ``checkpoint.pt`` and ``train_log.json`` into ``out``."""
    if config.epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {config.epochs}")
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    gen = torch.Generator().manual_seed(config.seed)
    train_data = _limit(load_split("train"), config.max_train_samples)
    calib = _limit(load_split("calibration"), config.max_eval_samples)
    model = FmnistResNet(dropout_p=config.dropout_p)
    cuts = [p.name for p in model.splits if p.kind == "intermediate"]
    x_all, y_all = to_tensor(train_data.images), torch.from_numpy(train_data.labels)
    steps = (len(train_data) + config.batch_size - 1) // config.batch_size
    opt = torch.optim.AdamW(model.parameters(), lr=config.max_lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, config.max_lr, total_steps=config.epochs * steps
    )
    history: list[dict] = []
    start = time.perf_counter()
    for epoch in range(config.epochs):
        model.train()
        order = torch.randperm(len(train_data), generator=gen)
        total_loss = 0.0
        for step in range(steps):
            idx = order[step * config.batch_size:(step + 1) * config.batch_size]
            x, y = augment(x_all[idx], gen), y_all[idx]
            cut = cuts[int(torch.randint(0, len(cuts), (1,), generator=gen))]
            loss = functional.cross_entropy(model.forward_train(x, cut), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += loss.item()
        acc = evaluate(model, calib)
        row = {"epoch": epoch + 1, "loss": total_loss / steps, "calibration_accuracy": acc,
               "elapsed_s": time.perf_counter() - start}
        history.append(row)
        log(json.dumps(row), flush=True)
    recompute_channel_means(model, train_data)
    train_seconds = time.perf_counter() - start
    quarter = {c: evaluate(model, calib, 0.25, c) for c in cuts}
    result = TrainResult(
        config=asdict(config),
        train_seconds=train_seconds,
        calibration_accuracy=evaluate(model, calib),
        calibration_accuracy_quarter_channels=quarter,
        test_accuracy=evaluate(model, _limit(load_split("test"), config.max_eval_samples)),
        history=history,
    )
    log(f"trained in {train_seconds:.1f} s; calibration accuracy "
        f"{result.calibration_accuracy:.4f}; test accuracy {result.test_accuracy:.4f}; "
        f"25% channels (calibration): {quarter}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), out / "checkpoint.pt")
        (out / "train_log.json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    return model, result
