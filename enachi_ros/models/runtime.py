"""The split model and its calibration artifact, as the head and tail nodes use them.

Loads the registered model (torch) and the committed artifact (importance order, packet layout,
channel means, calibrated entropy thresholds) once; runs head/tail under ``torch.no_grad`` on
CPU with a thread count set by the node.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from enachi_ros.core.artifact import CODEC_KIND, Artifact, load_artifact
from enachi_ros.core.packets import PacketLayout, plan_packets
from enachi_ros.models import (
    codecs,
    tv_shim,  # noqa: F401  (torchvision CPU shim before any model import)
)
from enachi_ros.models.registry import build_model, default_asset_dir


@dataclass
class ModelRuntime:
    name: str
    threads: int = 1
    artifact_dir: str = ""  # "" = the committed asset folder of the model
    _tails: dict[int, torch.jit.ScriptModule] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        torch.set_num_threads(max(1, int(self.threads)))
        folder = Path(self.artifact_dir) if self.artifact_dir else default_asset_dir(self.name)
        self.artifact: Artifact = load_artifact(folder)
        weights = folder / "checkpoint.pt"
        self.model = build_model(self.name, weights if weights.is_file() else None).eval()
        self.class_names = list(self.model.class_names)

    @cached_property
    def input_shape(self) -> tuple[int, ...]:
        """The model's input, channels x height x width (an image of another size is refused
        before it reaches the model)."""
        return tuple(int(v) for v in self.artifact.profile["input_shape"])

    @cached_property
    def n_splits(self) -> int:
        """Options a decision may name: the cuts of the network and the codec options."""
        return len(self.artifact.splits)

    @cached_property
    def device_index(self) -> int:
        """The device-only option (the whole model on the robot)."""
        return next(sp.index for sp in self.artifact.splits if sp.kind == "device_only")

    def kind(self, split: int) -> str:
        return self.artifact.split(split).kind

    def codec(self, split: int) -> tuple[str, int] | None:
        """(format, quality) of a codec option; None for a cut of the network."""
        sp = self.artifact.split(split)
        if sp.kind != CODEC_KIND:
            return None
        return str(sp.raw["codec"]["format"]), int(sp.raw["codec"]["quality"])

    @cached_property
    def max_payload_bytes(self) -> int:
        return int(self.artifact.profile["max_payload_bytes"])

    def encode(self, image_chw: np.ndarray, split: int) -> bytes:
        """Robot side of a codec option: the frame ([C, H, W] in [0, 1]) as JPEG or WebP bytes."""
        fmt, quality = self.codec(split)
        hwc = (np.clip(np.asarray(image_chw, np.float32), 0.0, 1.0) * 255.0).round()
        return codecs.encode(hwc.astype(np.uint8).transpose(1, 2, 0), fmt, quality)

    def decode(self, data: bytes) -> np.ndarray:
        """Edge side: codec bytes -> the model's input [C, H, W] in [0, 1] (ValueError for
        bytes that are no image of the model's input size)."""
        _, h, w = self.input_shape
        rgb = codecs.decode(data, (h, w, 3))
        return rgb.transpose(2, 0, 1).astype(np.float32) / 255.0

    def layouts(self, split: int, bits: int) -> list[PacketLayout]:
        """Packet layout of a split at a bit width (the artifact's for its default bits)."""
        sp = self.artifact.split(split)
        if bits == self.artifact.bits_default:
            return sp.layouts()
        prof = self.artifact.profile
        return plan_packets(
            sp.feature_shape,
            bits,
            sp.importance_order,
            int(prof["max_payload_bytes"]),
            int(prof["min_packets"]),
        )

    def channel_mean(self, split: int) -> np.ndarray:
        sp = self.artifact.split(split)
        if sp.kind == "edge_only":  # the input: fill missing rows with the data set mean
            return np.full(sp.feature_shape[0], float(np.mean(sp.channel_mean)), np.float32)
        return np.asarray(sp.channel_mean, np.float32)

    def checkpoints(self, split: int, packets: int) -> np.ndarray:
        """Packet counts >= 1 at which the tail checks the entropy: the fractions calibration
        measured (its thresholds hold there) applied to this task's ``packets`` (another bit
        width packs the tensor into fewer or more packets), and all of them."""
        sp = self.artifact.split(split)
        measured = np.asarray(sp.accuracy_vs_fraction.get("k") or [], float)
        fractions = measured / max(sp.num_packets, 1)
        ks = {int(k) for k in np.round(fractions * packets) if 1 <= k <= packets} | {packets}
        return np.array(sorted(ks), dtype=np.int64)

    def theta(self, split: int) -> float:
        return float(self.artifact.split(split).entropy_thresholds.get("chosen", 0.0) or 0.0)

    @torch.no_grad()
    def head(self, image_chw: np.ndarray, split: int) -> np.ndarray:
        """Robot side: image [C, H, W] in [0, 1] -> feature [C', H', W'] (or logits [classes])."""
        return self.model.head(torch.from_numpy(image_chw).unsqueeze(0), split)[0].numpy()

    @torch.no_grad()
    def tail_batch(self, features: np.ndarray, split: int) -> np.ndarray:
        """Edge side: features [B, C, H, W] -> class probabilities [B, classes]."""
        x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
        return torch.softmax(self.tail_module(split)(x), dim=1).numpy()

    @torch.no_grad()
    def tail_module(self, split: int) -> torch.jit.ScriptModule:
        """The tail of ``split``, traced and frozen (TorchScript), built on first use. It runs
        without the GIL, so a node's executor thread keeps taking packets while a pass runs on
        another thread: an eager pass of the camera model's whole tail took 67 ms alone and
        1.1 s next to a busy Python thread (it takes the GIL between ops), the traced one 56
        and 69 ms (measured here, torch 2.13, 1 thread). TorchScript is deprecated in favour of
        torch.compile, whose generated wrapper is Python again; its warnings are silenced here
        and torch is pinned (requirements/<distro>.lock)."""
        if split not in self._tails:
            shape = self.artifact.split(split).feature_shape
            example = torch.zeros((2, *shape))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                traced = torch.jit.trace(_Tail(self.model, split).eval(), example,
                                         check_trace=False)
                self._tails[split] = torch.jit.freeze(traced.eval())
        return self._tails[split]

    @torch.no_grad()
    def full(self, image_chw: np.ndarray) -> np.ndarray:
        """Device-only: class probabilities [classes]."""
        x = torch.from_numpy(image_chw).unsqueeze(0)
        return torch.softmax(self.model(x), dim=1)[0].numpy()


class _Tail(torch.nn.Module):
    """The tail of one split as a module of its own (what TorchScript traces)."""

    def __init__(self, model: torch.nn.Module, split: int) -> None:
        super().__init__()
        self.model, self.split = model, split

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        return self.model.tail(feature, self.split)
