"""``enachi train --model lite0_frames``: fine-tune EfficientNet-Lite0 on the labelled frames.

Training uses the 30k training frames only; 1000 calibration frames are the monitor; the 10k
test frames are evaluated once, at the end, for the reported figure. The stem and the first
two stages keep their ImageNet weights (frozen: half the cost of a training step on CPU); the
rest is fine-tuned with ordered channel dropout at a random cut per batch (robust tails). After
training, the per-channel fill means are recomputed exactly over training frames (eval mode).
Runs on the CPU (2 threads by default) and uses a GPU when one is present.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from enachi_ros.models import frames
from enachi_ros.models.lite0_frames import CUTS, Lite0Frames


@dataclass
class FramesTrainConfig:
    """Knobs of one run (defaults reproduce the committed checkpoint)."""

    epochs: int = 4
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    dropout_p: float = 0.5
    no_dropout_share: float = 0.25  # batches trained without channel dropout (full features)
    seed: int = 0
    threads: int = 2
    train_frames: int = frames.SPLIT_SIZES["train"]
    monitor_frames: int = 1000
    mean_frames: int = 4000
    test_frames: int = frames.SPLIT_SIZES["test"]
    size: int = frames.DEFAULT_SIZE


@dataclass
class FramesTrainResult:
    config: dict
    device: str
    train_seconds: float
    calibration_accuracy: float
    calibration_accuracy_quarter_channels: dict[str, float]
    test_accuracy: float
    history: list[dict] = field(default_factory=list)


def to_tensor(images: np.ndarray, device: str = "cpu") -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float [N, 3, H, W] in [0, 1] (normalization is inside the model)."""
    return torch.from_numpy(images).to(device).permute(0, 3, 1, 2).float().div_(255.0)


def _batches(split: str, count: int, size: int, device: str):
    """``(images, labels)`` tensors of the first ``count`` frames of ``split``, 100 at a time."""
    for images, labels in frames.batches(split, range(count), size, batch_size=100):
        yield to_tensor(images, device), torch.from_numpy(labels)


def evaluate(model: Lite0Frames, split: str, count: int, *, size: int, device: str = "cpu",
             keep_fraction: float = 1.0, cut: str | None = None) -> float:
    """Accuracy on the first ``count`` frames of ``split``; with ``cut``, only the first
    ``keep_fraction`` of its channels are kept (mean fill for the rest)."""
    return model.accuracy(_batches(split, count, size, device), cut=cut,
                          keep_fraction=keep_fraction)


def recompute_channel_means(model: Lite0Frames, count: int, *, size: int,
                            device: str = "cpu") -> None:
    """Exact per-channel means of every cut's feature over ``count`` training frames."""
    model.set_channel_means(x for x, _ in _batches("train", count, size, device))


def train_frames(config: FramesTrainConfig, out: Path | None = None, log=print
                 ) -> tuple[Lite0Frames, FramesTrainResult]:
    """Fine-tune; save ``checkpoint.pt`` and ``train_log.json`` into ``out``."""
    if config.epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {config.epochs}")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    gen = np.random.default_rng(config.seed)
    model = Lite0Frames(dropout_p=config.dropout_p).to(device)
    model.freeze_early_stages()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    steps = (config.train_frames + config.batch_size - 1) // config.batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, config.lr, total_steps=config.epochs * steps,
                                                pct_start=0.15)
    history: list[dict] = []
    start = time.perf_counter()
    all_images, all_labels = frames.materialize("train", config.train_frames, config.size)
    log(json.dumps({"frames_in_memory": config.train_frames,
                    "elapsed_s": round(time.perf_counter() - start, 1)}), flush=True)
    for epoch in range(config.epochs):
        model.train()
        order = gen.permutation(config.train_frames)
        total = 0.0
        for step in range(steps):
            batch = order[step * config.batch_size:(step + 1) * config.batch_size]
            images, labels = all_images[batch], all_labels[batch]
            x, y = to_tensor(images, device), torch.from_numpy(labels).to(device)
            flip = torch.from_numpy(gen.random(len(y)) < 0.5).to(device)
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
            cut = None if gen.random() < config.no_dropout_share else str(gen.choice(CUTS))
            loss = functional.cross_entropy(model.forward_train(x, cut), y,
                                            label_smoothing=config.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
            if step % 100 == 0:
                log(json.dumps({"epoch": epoch + 1, "step": step, "of": steps,
                                "loss": round(loss.item(), 4),
                                "elapsed_s": round(time.perf_counter() - start, 1)}), flush=True)
        acc = evaluate(model, "calibration", config.monitor_frames, size=config.size,
                       device=device)
        row = {"epoch": epoch + 1, "loss": total / steps, "calibration_accuracy": acc,
               "elapsed_s": time.perf_counter() - start}
        history.append(row)
        log(json.dumps(row), flush=True)
    recompute_channel_means(model, config.mean_frames, size=config.size, device=device)
    train_seconds = time.perf_counter() - start
    calib = evaluate(model, "calibration", config.monitor_frames, size=config.size, device=device)
    quarter = {c: evaluate(model, "calibration", config.monitor_frames, size=config.size,
                           device=device, keep_fraction=0.25, cut=c) for c in CUTS}
    test = evaluate(model, "test", config.test_frames, size=config.size, device=device)
    result = FramesTrainResult(asdict(config), device, train_seconds, calib, quarter, test,
                               history)
    log(f"trained in {train_seconds:.0f} s on {device}; calibration accuracy {calib:.4f}; test "
        f"accuracy {test:.4f} ({config.test_frames} frames); 25% channels (calibration): "
        f"{ {k: round(v, 4) for k, v in quarter.items()} }")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        torch.save({k: v.cpu() for k, v in model.state_dict().items()}, out / "checkpoint.pt")
        (out / "train_log.json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    return model.cpu(), result
