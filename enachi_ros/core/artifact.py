"""Calibration artifact (schema_version 1, docs/DESIGN.md): typed reader and writer.

``profile.json`` holds per-split profiles and fits; ``traces.npz`` holds per-sample outcomes on
the held-out test set. Numpy + json only, so the simulator and the ROS nodes can read what the
torch-side ``enachi calibrate`` measured without importing torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from enachi_ros.core.packets import PacketLayout
from enachi_ros.core.surrogate import Surrogate

SCHEMA_VERSION = 1
# Cuts of the network, in profile order: edge_only first, then intermediate splits, then
# device_only. After device_only come transmit options that are not cuts of the network:
# ``edge_codec`` sends the frame compressed by an image codec (JPEG or WebP at one quality,
# models/codecs.py), which the edge can only use once every packet has arrived (the
# practitioners' answer, image_transport's compressed transport, tuned).
NETWORK_KINDS = ("edge_only", "intermediate", "device_only")
CODEC_KIND = "edge_codec"
SPLIT_KINDS = (*NETWORK_KINDS, CODEC_KIND)
TRACE_KEYS = ("sample_index", "labels", "num_packets", "correct", "entropy", "pred")
OPTIONAL_TRACE_KEYS = ("frame_bytes",)
_ASSETS = Path(__file__).resolve().parent.parent / "assets"


@dataclass(frozen=True)
class SplitProfile:
    """Everything measured for one split point (see docs/DESIGN.md for field meanings)."""

    index: int
    name: str
    kind: str
    feature_shape: tuple[int, ...]
    head_latency_s: float
    tail_latency_s: float
    head_flops: int
    tail_flops: int
    bits: dict[int, dict[str, Any]]
    packets: list[dict[str, Any]]
    importance_order: list[int]
    channel_mean: np.ndarray
    accuracy_vs_fraction: dict[str, list[float]]
    surrogate: Surrogate
    entropy_thresholds: dict[str, Any]
    raw: dict[str, Any]

    @property
    def num_packets(self) -> int:
        """K: packets at the default bit width (0 for device_only)."""
        return len(self.packets)

    def layouts(self) -> list[PacketLayout]:
        """The packet layouts at the default bit width, in importance order."""
        return [PacketLayout.from_dict(i, entry) for i, entry in enumerate(self.packets)]

    def payload_bytes(self, bits: int) -> int:
        """Total payload bytes of the whole feature at ``bits`` (0 for device_only)."""
        if self.kind == "device_only":
            return 0
        if bits not in self.bits:
            raise ValueError(f"bits must be one of {sorted(self.bits)}, got {bits}")
        return int(self.bits[bits]["payload_bytes"])

    def packet_bytes(self, bits: int) -> list[int]:
        if self.kind == "device_only":
            return []
        if bits not in self.bits:
            raise ValueError(f"bits must be one of {sorted(self.bits)}, got {bits}")
        return [int(v) for v in self.bits[bits]["packet_bytes"]]


@dataclass(frozen=True)
class Traces:
    """Per-sample outcomes ``[n_splits, S, Kmax + 1]`` on the held-out test set.

    ``frame_bytes [n_splits, S]``: for a codec option, the size of each test frame encoded
    (every frame costs its own size); 0 for a cut of the network (its size is the split's)."""

    sample_index: np.ndarray
    labels: np.ndarray
    num_packets: np.ndarray
    correct: np.ndarray
    entropy: np.ndarray
    pred: np.ndarray
    frame_bytes: np.ndarray | None = None

    def accuracy(self, split: int, k: int) -> float:
        """Accuracy after the first ``k`` packets (clamped to K_s)."""
        k = min(int(k), int(self.num_packets[split]))
        return float(self.correct[split, :, k].mean())


@dataclass(frozen=True)
class Artifact:
    """A loaded calibration artifact."""

    directory: Path
    profile: dict[str, Any]
    splits: list[SplitProfile]
    traces: Traces | None

    @property
    def model(self) -> str:
        return str(self.profile["model"])

    @property
    def bits_default(self) -> int:
        return int(self.profile["bits_default"])

    def split(self, key: int | str) -> SplitProfile:
        for sp in self.splits:
            if key in (sp.index, sp.name):
                return sp
        raise ValueError(f"unknown split {key!r}; known: {[s.name for s in self.splits]}")


def _require(obj: dict, key: str, where: str) -> Any:
    if key not in obj:
        raise ValueError(f"{where}: missing field {key!r}")
    return obj[key]


def parse_split(raw: dict[str, Any], where: str = "split") -> SplitProfile:
    """Validate and type one entry of ``profile['splits']``."""
    kind = _require(raw, "kind", where)
    if kind not in SPLIT_KINDS:
        raise ValueError(f"{where}: kind must be one of {SPLIT_KINDS}, got {kind!r}")
    sur = _require(raw, "surrogate", where)
    bits = {int(k): v for k, v in _require(raw, "bits", where).items()}
    shape = tuple(int(v) for v in _require(raw, "feature_shape", where))
    if kind == "device_only" and shape:
        raise ValueError(f"{where}: device_only feature_shape must be [], got {list(shape)}")
    if kind != "device_only" and len(shape) != 3:
        raise ValueError(f"{where}: feature_shape must be [C, H, W], got {list(shape)}")
    mean = np.asarray(_require(raw, "channel_mean", where), dtype=np.float32)
    if kind != "device_only" and mean.shape != (shape[0],):
        raise ValueError(f"{where}: channel_mean must have {shape[0]} values, got {mean.shape}")
    return SplitProfile(
        index=int(_require(raw, "index", where)),
        name=str(_require(raw, "name", where)),
        kind=kind,
        feature_shape=shape,
        head_latency_s=float(_require(raw, "head_latency_s", where)),
        tail_latency_s=float(_require(raw, "tail_latency_s", where)),
        head_flops=int(_require(raw, "head_flops", where)),
        tail_flops=int(_require(raw, "tail_flops", where)),
        bits=bits,
        packets=list(_require(raw, "packets", where)),
        importance_order=[int(v) for v in _require(raw, "importance_order", where)],
        channel_mean=mean,
        accuracy_vs_fraction=dict(_require(raw, "accuracy_vs_fraction", where)),
        surrogate=Surrogate(float(sur["a0"]), float(sur["a1"]), float(sur["a2"]),
                            float(sur["rmse"]), str(sur.get("fit_on", "calibration")),
                            str(sur.get("method", ""))),
        entropy_thresholds=dict(_require(raw, "entropy_thresholds", where)),
        raw=raw,
    )


def check_split_order(kinds: list[str] | tuple[str, ...]) -> None:
    """edge_only first, then intermediate splits, one device_only, then only codec options."""
    kinds = list(kinds)
    expected = f"edge_only ... device_only [{CODEC_KIND} ...]"
    if ("device_only" not in kinds or len(kinds) < 2 or kinds[0] != "edge_only"
            or kinds.count("device_only") != 1):
        raise ValueError(f"profile splits kinds: expected {expected}, got {kinds}")
    d = kinds.index("device_only")
    if any(k not in ("edge_only", "intermediate") for k in kinds[1:d]) or any(
            k != CODEC_KIND for k in kinds[d + 1:]):
        raise ValueError(f"profile splits kinds: expected {expected}, got {kinds}")


def validate_profile(profile: dict[str, Any]) -> list[SplitProfile]:
    """Check the profile against schema_version 1; returns the typed splits."""
    version = _require(profile, "schema_version", "profile")
    if version != SCHEMA_VERSION:
        raise ValueError(f"profile: schema_version must be {SCHEMA_VERSION}, got {version!r}")
    for key in ("model", "input_shape", "num_classes", "bits_default", "max_payload_bytes",
                "min_packets", "importance_method", "splits"):
        _require(profile, key, "profile")
    splits = [parse_split(s, f"splits[{i}]") for i, s in enumerate(profile["splits"])]
    check_split_order([s.kind for s in splits])
    if [s.index for s in splits] != list(range(len(splits))):
        raise ValueError("profile: split indices must be 0..n-1 in order")
    return splits


def load_traces(path: Path) -> Traces:
    """Load and shape-check ``traces.npz``."""
    with np.load(path) as npz:
        missing = [k for k in TRACE_KEYS if k not in npz.files]
        if missing:
            raise ValueError(f"{path}: missing arrays {missing}")
        arrays = {k: npz[k] for k in TRACE_KEYS}
        arrays.update({k: npz[k] for k in OPTIONAL_TRACE_KEYS if k in npz.files})
    n_splits = arrays["num_packets"].shape[0]
    s = arrays["sample_index"].shape[0]
    k1 = int(arrays["num_packets"].max()) + 1
    for key in ("correct", "entropy", "pred"):
        if arrays[key].shape != (n_splits, s, k1):
            raise ValueError(f"{path}: {key} must have shape {(n_splits, s, k1)}, "
                             f"got {arrays[key].shape}")
    fb = arrays.get("frame_bytes")
    if fb is not None and (fb.shape != (n_splits, s) or np.any(fb < 0)):
        raise ValueError(f"{path}: frame_bytes must have shape {(n_splits, s)} with values "
                         f">= 0, got {fb.shape}")
    return Traces(**arrays)


def save_traces(path: Path, traces: Traces) -> None:
    """Write ``traces.npz`` compressed, with the DESIGN.md dtypes."""
    np.savez_compressed(
        path,
        sample_index=traces.sample_index.astype(np.int32),
        labels=traces.labels.astype(np.int16),
        num_packets=traces.num_packets.astype(np.int16),
        correct=traces.correct.astype(bool),
        entropy=traces.entropy.astype(np.float16),
        pred=traces.pred.astype(np.int16),
        **({} if traces.frame_bytes is None else
           {"frame_bytes": traces.frame_bytes.astype(np.int32)}),
    )


def save_profile(path: Path, profile: dict[str, Any]) -> None:
    """Validate then write ``profile.json``."""
    validate_profile(profile)
    path.write_text(json.dumps(profile, indent=1) + "\n")


def load_artifact(directory: str | Path) -> Artifact:
    """Read ``profile.json`` (required) and ``traces.npz`` (optional) from ``directory``."""
    folder = Path(directory)
    path = folder / "profile.json"
    if not path.is_file():
        raise FileNotFoundError(f"no profile.json in {folder}: run 'enachi calibrate'")
    profile = json.loads(path.read_text())
    splits = validate_profile(profile)
    traces_path = folder / "traces.npz"
    traces = load_traces(traces_path) if traces_path.is_file() else None
    if traces is not None and traces.num_packets.shape[0] != len(splits):
        raise ValueError(f"{traces_path}: {traces.num_packets.shape[0]} splits in traces, "
                         f"{len(splits)} in profile.json")
    return Artifact(folder, profile, splits, traces)


def default_artifact_dir(model: str) -> Path:
    """The committed artifact folder of a model (``enachi_ros/assets/<model>``)."""
    folder = _ASSETS / model
    if not (folder / "profile.json").is_file():
        raise FileNotFoundError(f"no committed artifact for {model!r} in {folder}")
    return folder


def normalized_entropy(probs: np.ndarray) -> np.ndarray:
    """Softmax entropy divided by log(num_classes), in [0, 1]; last axis = classes."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=-1) / np.log(p.shape[-1])
