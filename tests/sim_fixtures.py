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


@functools.lru_cache(maxsize=1)
def synthetic_dir() -> Path:
    return write_synthetic_artifact(Path(tempfile.mkdtemp(prefix="enachi_test_")) / "art", 400)


@functools.lru_cache(maxsize=1)
def synthetic_table() -> SplitTable:
    return SplitTable.from_profile(load_artifact(synthetic_dir()).profile, DEVICE)
