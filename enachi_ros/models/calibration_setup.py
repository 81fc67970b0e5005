"""What a calibration run works on: its options, the per-model defaults and its evaluation data.

Shared by ``calibrate.py`` (measures and writes an artifact) and ``verify.py`` (recomputes part
of a committed one), so neither imports the other to get them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from enachi_ros.models.sources import EvalData, fmnist_data, frames_data, photo_data
from enachi_ros.models.splitting import SplitModel


@dataclass
class CalibrateOptions:
    """What to calibrate and how (defaults produce the committed artifacts)."""

    model: str
    out: Path | None = None
    weights: Path | None = None
    verify: bool = False
    samples: int | None = None
    images: Path | None = None
    threads: int = 2
    latency_repeats: int = 50
    bits_list: tuple[int, ...] = (8, 4, 2)
    bits_default: int = 8
    max_payload_bytes: int = 1024
    min_packets: int = 8
    rank_samples: int = 2000
    methods: tuple[str, ...] | None = None  # None: the default comparison for the data kind
    profile_only: bool = False  # re-measure latency/FLOPs into an existing profile.json
    plots: bool = True
    thetas: list[float] = field(default_factory=lambda: [i / 40 for i in range(41)])
    # Large models (calibration time): outcomes on a k-grid of this many points instead of
    # every k (None: every k), the method comparison, the fill comparison and the bit-width
    # table on ``compare_samples`` calibration/test samples (None: all), and the number of
    # calibration samples (None: as ``samples``).
    k_points: int | None = None
    compare_samples: int | None = None
    calibration_samples: int | None = None
    # codec options (RGB models): each format at each quality (models/codecs.py); None: none
    codecs: tuple[str, ...] | None = None
    codec_qualities: tuple[int, ...] | None = None


# Per-model defaults for what a whole calibration must fit in (an hour on 2 cores). lite0_frames:
# a first run with 1000 calibration samples, 13 k and batches of 500 had compared the importance
# methods on only 1.5 of 7 splits after 23 min (~108 ms per tail pass); with eval_batch the
# whole model takes 24-25 ms per sample here, and these sizes took 25 min 20 s (2026-12-01);
# with k = 1..4 measured and the 20 codec options, 65 min (2026-12-08, the machine shared with
# other work: ~45 min for the cuts, ~1 min per codec option).
MODEL_DEFAULTS: dict[str, dict] = {
    "lite0_frames": {"samples": 2000, "calibration_samples": 500, "k_points": 9,
                     "compare_samples": 150, "methods": ("natural", "variance"),
                     "codecs": ("jpeg", "webp"),
                     "codec_qualities": (10, 20, 30, 40, 50, 60, 70, 80, 90, 95)},
}


def with_model_defaults(options: CalibrateOptions) -> CalibrateOptions:
    """``options`` with the model's defaults wherever the caller left a field at None."""
    defaults = dict(MODEL_DEFAULTS.get(options.model, {}))
    if options.samples is not None:  # a smoke run: no part uses more samples than asked for
        for key in ("calibration_samples", "compare_samples"):
            if key in defaults:
                defaults[key] = min(defaults[key], options.samples)
    return replace(options, **{k: v for k, v in defaults.items()
                               if getattr(options, k) is None})


def load_data(model: SplitModel, options: CalibrateOptions,
              test_index: np.ndarray | None = None) -> EvalData:
    if options.model == "fmnist_resnet":
        return fmnist_data(options.samples, test_index)
    if options.model == "lite0_frames":
        return frames_data(options.samples, test_index, options.calibration_samples)
    return photo_data(model, options.images, options.samples, test_index)


