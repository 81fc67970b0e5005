"""Per-split arrays the scheduler and the sender need, built from the calibration profile.

The profile (docs/DESIGN.md, ``profile.json``) is a list of per-split records; the solver works
on arrays over splits, so this module flattens it once: robot head time and compute energy (via
the device model: the network on the board, a codec option's encoder on one core), edge tail
time, payload and per-packet bits at the chosen bit width (a codec option: the size a plan
must carry), the surrogate coefficients, the calibrated entropy threshold and the expected stop
point.
Only calibration-side numbers are used here (never the test-set columns): the scheduler must not
know the test outcomes the simulator replays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from enachi_ros.core.artifact import CODEC_KIND, SPLIT_KINDS, check_split_order
from enachi_ros.core.energy import (
    codec_energy_j,
    codec_time_s,
    compute_energy_j,
    head_time_s,
    tail_time_s,
)
from enachi_ros.core.params import DeviceParams
from enachi_ros.core.surrogate import check_surrogate, fit_surrogate

COARSE_PACKETS = 2  # same rule as core.solver: a split this coarse is all-or-nothing


def _endpoint_coeffs(acc0: float, acc1: float) -> tuple[float, float, float]:
    """Coefficients of the curve through A(0) = acc0 and A(1) = acc1 (a1 = -1)."""
    a2 = acc0 + 1.0
    gap = max(acc1 - acc0, 1e-6)
    return 1.0 / (1.0 - gap) - 1.0, -1.0, a2


def _surrogate_coeffs(split: dict, curve: np.ndarray, k: int) -> tuple[tuple, str]:
    """The profile's fit when it is increasing-concave on [0, 1]; otherwise a refit on the
    calibration curve (``core.surrogate.fit_surrogate``, the calibration's own fit, bounded to
    a0 > 0 and a1 < 0 for three or more points). A coarse split (<= COARSE_PACKETS packets;
    edge_only of a small image is one packet), or a curve of fewer than three points, only
    gives A(0) and A(1), taken from the calibration curve's end points, since a 3-parameter fit
    through 2 points is degenerate (calibration may report it 'constant')."""
    if split["kind"] == "device_only":
        return (1.0, -1.0, float(curve[-1]) + 1.0), "profile"  # constant: unused by the solver
    if k <= COARSE_PACKETS and curve.size >= 2:
        return _endpoint_coeffs(float(curve[0]), float(curve[-1])), "endpoints"
    sur = split.get("surrogate") or {}
    coeffs = (float(sur.get("a0", 0.0)), float(sur.get("a1", 0.0)), float(sur.get("a2", 0.0)))
    if coeffs[0] > 0 and coeffs[1] < 0:
        return coeffs, "profile"
    if curve.size < 3:
        return _endpoint_coeffs(float(curve[0]), float(curve[-1])), "endpoints"
    fraction = np.asarray(split["accuracy_vs_fraction"]["fraction"], dtype=float)
    return fit_surrogate(fraction, curve).coeffs, "refit"


@dataclass(frozen=True)
class SplitTable:
    """Arrays over splits ``S`` (index order of the profile) and packets ``Kmax``."""

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    head_s: np.ndarray  # robot head time (device_only: full model)
    tail_s: np.ndarray  # edge tail time
    compute_j: np.ndarray  # device compute energy E_cmp(s)
    payload_bits: np.ndarray  # total bits of the quantized tensor (0 for device_only)
    packet_bits: np.ndarray  # [S, Kmax] bits per packet, importance order, zero padded
    num_packets: np.ndarray  # K_s (0 for device_only)
    a0: np.ndarray
    a1: np.ndarray
    a2: np.ndarray
    accuracy_full: np.ndarray  # calibration accuracy with every packet (device_only: the model)
    theta: np.ndarray  # calibrated entropy threshold per split
    theta_grid: tuple[np.ndarray, ...] = field(repr=False)  # per split: thresholds tried
    mean_packets_grid: tuple[np.ndarray, ...] = field(repr=False)  # mean packets at each
    bits: int = 8
    surrogate_source: tuple[str, ...] = ()  # per split: 'profile', 'refit' or 'endpoints'
    codec_format: tuple[str, ...] = ()  # per split: 'jpeg' / 'webp' for codec options, else ''
    max_payload_bytes: int = 1024  # the largest packet (a codec frame is cut into these)
    codec_quality: np.ndarray = field(default_factory=lambda: np.zeros(0, int))

    @property
    def n_splits(self) -> int:
        return len(self.names)

    @property
    def device_index(self) -> int:
        return self.kinds.index("device_only")

    @property
    def transmits(self) -> np.ndarray:
        """True for splits that send something (edge_only, intermediate, edge_jpeg)."""
        return np.array([k != "device_only" for k in self.kinds])

    @property
    def network(self) -> np.ndarray:
        """True for cuts of the network (everything but the codec options)."""
        return np.array([k != CODEC_KIND for k in self.kinds])

    @property
    def codec(self) -> np.ndarray:
        """True for the codec options (the frame compressed by JPEG or WebP)."""
        return ~self.network

    @property
    def all_or_nothing(self) -> np.ndarray:
        """True where the edge can only use the whole payload (a codec frame)."""
        return self.codec

    def frame_packet_bits(self, frame_bytes: np.ndarray) -> np.ndarray:
        """``[B, K]`` bits per packet of codec frames of ``frame_bytes`` each, cut into packets
        of ``max_payload_bytes`` (zero padded to the longest)."""
        size = np.asarray(frame_bytes, np.int64)
        k = max(1, int(np.ceil(size.max(initial=0) / self.max_payload_bytes)))
        start = np.arange(k)[None, :] * self.max_payload_bytes
        return 8.0 * np.clip(size[:, None] - start, 0, self.max_payload_bytes)

    def codec_options(self, formats: tuple[str, ...] | None = None) -> np.ndarray:
        """Indices of the codec options, of ``formats`` only when given."""
        return np.array([i for i, f in enumerate(self.codec_format)
                         if f and (formats is None or f in formats)], dtype=int)

    def index_of_kind(self, kind: str) -> int:
        """The first split of ``kind`` (ValueError naming the artifact's kinds if none)."""
        if kind not in self.kinds:
            raise ValueError(f"split kind {kind!r}: this artifact has none (kinds {self.kinds})")
        return self.kinds.index(kind)

    def index(self, name_or_index: str | int) -> int:
        if isinstance(name_or_index, int | np.integer):
            if not 0 <= int(name_or_index) < self.n_splits:
                raise ValueError(f"split: expected 0..{self.n_splits - 1}, got {name_or_index}")
            return int(name_or_index)
        if name_or_index not in self.names:
            raise ValueError(f"split: expected one of {list(self.names)}, got {name_or_index!r}")
        return self.names.index(name_or_index)

    def stop_fraction(self, theta: np.ndarray | float | None = None) -> np.ndarray:
        """Expected fraction of the packets sent before an entropy stop, per split.

        Interpolated from the calibration table ``entropy_thresholds`` at ``theta`` (default: the
        calibrated one). 1 where no table exists or the stop is disabled (theta <= 0).
        """
        th = self.theta if theta is None else np.broadcast_to(np.asarray(theta, float),
                                                             (self.n_splits,))
        out = np.ones(self.n_splits)
        for s in range(self.n_splits):
            grid, packets = self.theta_grid[s], self.mean_packets_grid[s]
            if self.num_packets[s] > 0 and grid.size and th[s] > 0:
                order = np.argsort(grid)
                mean_k = np.interp(th[s], grid[order], packets[order])
                out[s] = min(1.0, float(mean_k) / float(self.num_packets[s]))
        return out

    @classmethod
    def from_profile(
        cls, profile: dict, device: DeviceParams, bits: int | None = None
    ) -> SplitTable:
        """Build from a parsed ``profile.json`` (schema_version 1)."""
        if profile.get("schema_version") != 1:
            raise ValueError(
                f"profile schema_version: expected 1, got {profile.get('schema_version')!r}"
            )
        bits = int(bits or profile.get("bits_default", 8))
        splits = profile["splits"]
        kinds = tuple(s["kind"] for s in splits)
        bad = [k for k in kinds if k not in SPLIT_KINDS]
        if bad:
            raise ValueError(f"profile splits kinds: expected among {SPLIT_KINDS}, got {bad}")
        check_split_order(kinds)
        names = tuple(s["name"] for s in splits)
        packet_lists, a0, a1, a2, acc, theta, grids, means = [], [], [], [], [], [], [], []
        sources: list[str] = []
        for s in splits:
            entry = s.get("bits", {}).get(str(bits))
            if s["kind"] != "device_only" and entry is None:
                raise ValueError(f"split {s['name']!r}: no packet sizes for bits={bits}")
            packet_lists.append([8 * b for b in entry["packet_bytes"]] if entry else [])
            avf = s.get("accuracy_vs_fraction") or {}
            curve = np.asarray(avf.get("accuracy_calib") or [profile.get("test_accuracy", 0.0)])
            acc.append(float(curve[-1]))
            coeffs, source = _surrogate_coeffs(s, curve, len(packet_lists[-1]))
            sources.append(source)
            a0.append(coeffs[0])
            a1.append(coeffs[1])
            a2.append(coeffs[2])
            et = s.get("entropy_thresholds") or {}
            theta.append(float(et.get("chosen", 0.0) or 0.0))
            grids.append(np.asarray(et.get("theta", []), dtype=float))
            means.append(np.asarray(et.get("mean_packets", []), dtype=float))
        kmax = max(1, *(len(p) for p in packet_lists))
        packet_bits = np.zeros((len(splits), kmax))
        for i, p in enumerate(packet_lists):
            packet_bits[i, : len(p)] = p
        head_lat = np.array([float(s["head_latency_s"]) for s in splits])
        tail_lat = np.array([float(s["tail_latency_s"]) for s in splits])
        tx = np.array([k != "device_only" for k in kinds])
        codec = np.array([k == CODEC_KIND for k in kinds])
        fmts = tuple(str(s.get("codec", {}).get("format", "")) if k == CODEC_KIND else ""
                     for s, k in zip(splits, kinds, strict=True))
        if any(k == CODEC_KIND and not f for k, f in zip(kinds, fmts, strict=True)):
            raise ValueError("profile: every edge_codec option needs codec.format")
        quality = np.array([int(s.get("codec", {}).get("quality", 0)) for s in splits])
        tx_names = [n for n, t in zip(names, tx, strict=True) if t]
        check_surrogate(np.array(a0)[tx], np.array(a1)[tx], tx_names)  # holds after refits
        return cls(
            names=names,
            kinds=kinds,
            head_s=np.where(codec, codec_time_s(head_lat, device), head_time_s(head_lat, device)),
            tail_s=np.where(tx, tail_time_s(tail_lat, device), 0.0),
            compute_j=np.where(codec, codec_energy_j(head_lat, device),
                               compute_energy_j(head_lat, device)),
            payload_bits=packet_bits.sum(axis=1),
            packet_bits=packet_bits,
            num_packets=np.array([len(p) for p in packet_lists]),
            a0=np.array(a0),
            a1=np.array(a1),
            a2=np.array(a2),
            accuracy_full=np.array(acc),
            theta=np.array(theta),
            theta_grid=tuple(grids),
            mean_packets_grid=tuple(means),
            bits=bits,
            surrogate_source=tuple(sources),
            codec_format=fmts,
            codec_quality=quality,
            max_payload_bytes=int(profile.get("max_payload_bytes", 1024)),
        )
