"""A small synthetic calibration artifact that follows docs/DESIGN.md (schema_version 1) exactly.

Why: tests and the scheduler benchmark must run without the trained model. The split layout,
feature sizes and packetization mirror fmnist_resnet (edge_only 1x28x28, stage1 32x14x14, stage2
64x7x7, stage3 128x4x4, pool 128x1x1, device_only); latencies and outcomes are made up but
plausible: each sample has a difficulty, a prefix of k packets classifies it correctly when the
split's accuracy curve at k/K exceeds that difficulty, and entropy falls with k.
It is never used for a reported figure.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _coeffs(a1: float, acc0: float = 0.1, acc1: float = 0.915) -> tuple[float, float, float]:
    """(a0, a1, a2) of the curve through A(0) = acc0 and A(1) = acc1 (smaller |a1|: faster)."""
    a2 = acc0 - 1.0 / a1
    return 1.0 / (a2 - acc1) + a1, a1, a2


# name, kind, feature shape, head / tail latency on the build machine (s), curve (a0, a1, a2)
_SPLITS = (
    ("edge_only", "edge_only", [1, 28, 28], 0.0, 1.2e-3, _coeffs(-1.0)),
    ("stage1", "intermediate", [32, 14, 14], 0.4e-3, 0.8e-3, _coeffs(-0.6)),
    ("stage2", "intermediate", [64, 7, 7], 0.7e-3, 0.5e-3, _coeffs(-0.4)),
    ("stage3", "intermediate", [128, 4, 4], 1.0e-3, 0.2e-3, _coeffs(-0.3)),
    ("pool", "intermediate", [128, 1, 1], 1.15e-3, 0.02e-3, _coeffs(-0.25)),
    ("device_only", "device_only", [], 1.2e-3, 0.0, None),
    ("jpeg_q50", "edge_codec", [1, 28, 28], 0.05e-3, 1.25e-3, None),  # all-or-nothing
    ("webp_q50", "edge_codec", [1, 28, 28], 0.4e-3, 1.25e-3, None),
)
# codec options: mean bytes per frame, accuracy on the decoded frames; every frame's size varies
CODECS = {"jpeg_q50": (360, 0.905), "webp_q50": (250, 0.90)}
MAX_PAYLOAD, MIN_PACKETS = 1024, 8


def _packets(shape: list[int], bits: int) -> list[int]:
    """Per-packet payload bytes, following the DESIGN packetization rule."""
    if not shape:
        return []
    c, h, w = shape
    ch_bytes = int(np.ceil(h * w * bits / 8))
    if ch_bytes > MAX_PAYLOAD:
        rows = max(1, MAX_PAYLOAD * 8 // (w * bits))
        bands = [min(rows, h - r) for r in range(0, h, rows)]
        return [int(np.ceil(r * w * bits / 8)) for _ in range(c) for r in bands]
    per = max(1, min(MAX_PAYLOAD // ch_bytes, int(np.ceil(c / MIN_PACKETS))))
    return [ch_bytes * min(per, c - i) for i in range(0, c, per)]


def _curve(coeffs, frac):
    a0, a1, a2 = coeffs
    return np.clip(a2 - 1.0 / (a0 * frac - a1), 0.1, 1.0)


def _mean_stop(entropy: np.ndarray, k: int, theta: float) -> float:
    """Mean number of packets received when the entropy stop at ``theta`` fires (K if never)."""
    if k == 0:
        return 0.0
    hit = entropy[:, 1 : k + 1] <= theta
    return float(np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, k).mean())


def write_synthetic_artifact(out: str | Path, n_samples: int = 1000, seed: int = 0) -> Path:
    """Write ``profile.json`` and ``traces.npz`` into ``out``; returns the directory."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    difficulty = rng.random(n_samples)
    labels = rng.integers(0, 10, n_samples)
    splits, correct_l, entropy_l, frame_l = [], [], [], []
    k_max = max(len(_packets(s[2], 8)) for s in _SPLITS)
    for i, (name, kind, shape, head, tail, coeffs) in enumerate(_SPLITS):
        jpeg = kind == "edge_codec"
        mean_bytes, codec_acc = CODECS.get(name, (0, 0.0))
        sizes = (np.random.default_rng([seed, i]).uniform(0.6, 1.4, n_samples) * mean_bytes
                 ).astype(np.int32) if jpeg else np.zeros(n_samples, np.int32)
        frame_l.append(sizes)
        planned = int(np.percentile(sizes, 95)) if jpeg else 0
        pk = {str(b): [planned] if jpeg else _packets(shape, b) for b in (8, 4, 2)}
        k = len(pk["8"])
        ks = np.arange(k + 1)
        frac = ks / max(k, 1)
        acc = (_curve(coeffs, frac) if coeffs else
               np.array([0.0, codec_acc]) if jpeg else np.array([0.915]))
        cur = np.minimum.accumulate(acc[::-1])[::-1] if coeffs else acc
        kk = np.minimum(np.arange(k_max + 1), k)
        level = cur[kk] if coeffs or jpeg else np.full(k_max + 1, acc[0])
        correct = difficulty[:, None] < level[None, :]
        noise = 0.1 * rng.random((n_samples, k_max + 1))
        ent = np.clip(0.95 - 0.8 * (frac[kk] if coeffs else 1.0) + noise - 0.3 * correct, 0, 1)
        correct_l.append(correct)
        entropy_l.append(ent.astype(np.float16))
        theta = [0.05, 0.1, 0.2, 0.3, 0.4]
        mean_k = [_mean_stop(ent, k, t) for t in theta]
        splits.append({
            "index": i, "name": name, "kind": kind, "feature_shape": shape,
            "head_latency_s": head, "tail_latency_s": tail,
            "head_flops": int(head * 1e9), "tail_flops": int(tail * 1e9),
            "bits": {b: {"payload_bytes": int(sum(p)), "packet_bytes": p} for b, p in pk.items()},
            "packets": [{"channels": [j], "row_start": 0, "row_count": shape[1] if shape else 0}
                        for j in range(k)],
            "importance_order": list(range(shape[0])) if shape else [],
            "channel_mean": [0.1] * (shape[0] if shape else 0),
            "accuracy_vs_fraction": {"k": ks.tolist(), "fraction": frac.tolist(),
                                     "accuracy_calib": acc.tolist(), "accuracy_test": acc.tolist()},
            "surrogate": {"a0": (coeffs or (1.0,))[0], "a1": (coeffs or (0, -1.0))[1],
                          "a2": coeffs[2] if coeffs else float(acc[-1]) + 1.0, "rmse": 0.0,
                          "fit_on": "calibration"},
            **({"codec": {"format": name.split("_")[0], "quality": 50, "planned_bytes": planned,
                          "bytes_mean_test": float(sizes.mean())}} if jpeg else {}),
            "entropy_thresholds": {"theta": theta if k else [],
                                   "accuracy": [float(acc[-1])] * len(theta) if k else [],
                                   "mean_packets": mean_k if k else [],
                                   "chosen": 0.2 if k else 0.0},
        })
    profile = {
        "schema_version": 1, "model": "synthetic", "created": "1970-01-01T00:00:00Z",
        "machine": {"cpu": "synthetic", "torch_threads": 2}, "checkpoint_sha256": "",
        "input_shape": [1, 28, 28], "num_classes": 10, "class_names": [str(i) for i in range(10)],
        "normalization": {"mean": [0.286], "std": [0.353]}, "test_accuracy": 0.915,
        "bits_default": 8, "max_payload_bytes": MAX_PAYLOAD, "min_packets": MIN_PACKETS,
        "importance_method": "synthetic", "splits": splits,
    }
    (out / "profile.json").write_text(json.dumps(profile, indent=1))
    np.savez_compressed(
        out / "traces.npz",
        sample_index=np.arange(n_samples, dtype=np.int32),
        labels=labels.astype(np.int16),
        num_packets=np.array([1 if s[1] == "edge_codec" else len(_packets(s[2], 8))
                              for s in _SPLITS], dtype=np.int16),
        frame_bytes=np.stack(frame_l),
        correct=np.stack(correct_l),
        entropy=np.stack(entropy_l),
        pred=np.where(np.stack(correct_l), labels[None, :, None], (labels[None, :, None] + 1) % 10)
        .astype(np.int16),
    )
    return out
