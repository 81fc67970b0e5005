"""Shared test helpers: a synthetic artifact (docs/DESIGN.md schema) and its split table."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from enachi_ros.core.artifact import load_artifact
from enachi_ros.core.params import ChannelParams, DeviceParams, RadioParams
from enachi_ros.core.split_table import SplitTable
from enachi_ros.sim.synthetic import write_synthetic_artifact

RADIO = RadioParams()
CHANNEL = ChannelParams()
DEVICE = DeviceParams()
# the camera workload's uplink (config/profiles/wifi6_20mhz.yaml), for tests of the MCS tables
WIFI6 = RadioParams(bandwidth_hz=20e6, noise_psd_w_per_hz=10 ** ((-174.0 + 7.0 - 30.0) / 10.0),
                    slot_s=1e-3, p_max_w=0.1, residual_loss=0.01, feedback_s=1e-3,
                    granularity_hz=2.03125e6, rate_model="wifi6", mac_efficiency=0.64)


@functools.lru_cache(maxsize=1)
def synthetic_dir() -> Path:
    return write_synthetic_artifact(Path(tempfile.mkdtemp(prefix="enachi_test_")) / "art", 400)


@functools.lru_cache(maxsize=1)
def synthetic_table() -> SplitTable:
    return SplitTable.from_profile(load_artifact(synthetic_dir()).profile, DEVICE)
