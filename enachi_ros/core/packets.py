"""Packetization of quantized features in importance order, and reassembly with mean fill.

Protocol (docs/DESIGN.md): channels are taken in importance order and grouped into packets of
whole channels, ``channels_per_packet = max(1, min(floor(max_payload_bytes / channel_bytes),
ceil(C / min_packets)))``; a channel larger than ``max_payload_bytes`` is cut into row bands, one
channel per packet. Every packet carries its channels, rows, per-channel scale and zero point and
the full shape, so it can be placed without side information. The edge starts from the
per-channel training mean and overwrites each received region (zero fill destroys accuracy).

Used by the head, transmitter and tail nodes and by the simulator: keep it numpy-only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from enachi_ros.core.quantize import (
    QuantizedTensor,
    check_bits,
    dequantize_values,
    pack_bits,
    packed_size,
    unpack_bits,
)

DEFAULT_MAX_PAYLOAD_BYTES = 1024
DEFAULT_MIN_PACKETS = 8


def check_shape(shape: Sequence[int], name: str = "shape") -> tuple[int, int, int]:
    """Validate a ``[C, H, W]`` shape of positive ints."""
    try:
        dims = tuple(int(v) for v in shape)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be 3 positive integers [C, H, W], got {shape!r}") from exc
    if len(dims) != 3 or min(dims) < 1 or any(int(v) != v for v in shape):
        raise ValueError(f"{name} must be 3 positive integers [C, H, W], got {list(shape)!r}")
    return dims  # type: ignore[return-value]


@dataclass(frozen=True)
class PacketLayout:
    """Which part of the tensor packet ``index`` carries (position in importance order)."""

    index: int
    channels: tuple[int, ...]
    row_start: int
    row_count: int

    def to_json(self) -> dict:
        return {"channels": list(self.channels), "row_start": self.row_start,
                "row_count": self.row_count}

    @classmethod
    def from_dict(cls, index: int, entry: Mapping[str, Any]) -> PacketLayout:
        """Packet ``index`` from its ``profile.json`` entry (the inverse of :meth:`to_json`)."""
        return cls(int(index), tuple(int(c) for c in entry["channels"]), int(entry["row_start"]),
                   int(entry["row_count"]))


def channel_bytes(shape: Sequence[int], bits: int) -> int:
    """Packed bytes of one whole channel."""
    _, h, w = check_shape(shape)
    return packed_size(h * w, bits)


def _check_order(order: Sequence[int] | None, c: int) -> np.ndarray:
    if order is None:
        return np.arange(c)
    arr = np.asarray(order)
    if arr.shape != (c,) or not np.issubdtype(arr.dtype, np.integer) or \
            not np.array_equal(np.sort(arr), np.arange(c)):
        raise ValueError(f"importance_order must be a permutation of 0..{c - 1}, got {order!r}")
    return arr.astype(np.int64)


def plan_packets(
    shape: Sequence[int],
    bits: int = 8,
    importance_order: Sequence[int] | None = None,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    min_packets: int = DEFAULT_MIN_PACKETS,
) -> list[PacketLayout]:
    """Packet layout of a ``[C, H, W]`` tensor (most important channels first)."""
    c, h, w = check_shape(shape)
    bits = check_bits(bits)
    if int(max_payload_bytes) < 1:
        raise ValueError(f"max_payload_bytes must be >= 1, got {max_payload_bytes}")
    if int(min_packets) < 1:
        raise ValueError(f"min_packets must be >= 1, got {min_packets}")
    order = [int(v) for v in _check_order(importance_order, c)]
    cb = packed_size(h * w, bits)
    layouts: list[PacketLayout] = []
    if cb > max_payload_bytes:
        rows = (int(max_payload_bytes) * 8) // (w * bits)
        if rows < 1:
            raise ValueError(
                f"max_payload_bytes={max_payload_bytes} cannot hold one row of {w} values at "
                f"{bits} bits ({packed_size(w, bits)} bytes)"
            )
        for ch in order:
            for start in range(0, h, rows):
                layouts.append(PacketLayout(len(layouts), (ch,), start, min(rows, h - start)))
        return layouts
    per_packet = max(1, min(int(max_payload_bytes) // cb, math.ceil(c / int(min_packets))))
    for i in range(0, c, per_packet):
        layouts.append(PacketLayout(len(layouts), tuple(order[i:i + per_packet]), 0, h))
    return layouts


def payload_bytes(layout: PacketLayout, shape: Sequence[int], bits: int) -> int:
    """Bytes of packed data in one packet."""
    _, _, w = check_shape(shape)
    return packed_size(len(layout.channels) * layout.row_count * w, bits)


@dataclass(frozen=True)
class PacketPayload:
    """One self-describing packet (mirrors ``enachi_interfaces/FeaturePacket``).

    Construction validates every field and raises ``ValueError`` naming the bad one, so a node
    can catch malformed packets from the radio and count them.
    """

    index: int
    shape: tuple[int, int, int]
    bits: int
    channels: np.ndarray
    row_start: int
    row_count: int
    scale: np.ndarray
    zero_point: np.ndarray
    data: bytes = field(repr=False)

    def __post_init__(self) -> None:
        c, h, w = check_shape(self.shape)
        object.__setattr__(self, "shape", (c, h, w))
        object.__setattr__(self, "bits", check_bits(self.bits))
        if int(self.index) < 0:
            raise ValueError(f"index must be >= 0, got {self.index}")
        ch = np.asarray(self.channels)
        if ch.ndim != 1 or ch.size == 0 or not np.issubdtype(ch.dtype, np.integer):
            raise ValueError(
                f"channels must be a non-empty 1-D integer list, got {self.channels!r}"
            )
        if ch.min() < 0 or ch.max() >= c or np.unique(ch).size != ch.size:
            raise ValueError(f"channels must be distinct indices in 0..{c - 1}, got {ch.tolist()}")
        if not (int(self.row_start) >= 0 and int(self.row_count) >= 1
                and int(self.row_start) + int(self.row_count) <= h):
            raise ValueError(
                f"row_start/row_count must select rows within 0..{h - 1}, got "
                f"row_start={self.row_start}, row_count={self.row_count}"
            )
        for name in ("scale", "zero_point"):
            arr = np.asarray(getattr(self, name), dtype=np.float32)
            if arr.shape != ch.shape or not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} must hold {ch.size} finite values, got {arr.tolist()}")
            object.__setattr__(self, name, arr)
        if not np.all(self.scale > 0):
            raise ValueError(f"scale must be > 0, got {self.scale.tolist()}")
        data = bytes(self.data)
        need = packed_size(ch.size * int(self.row_count) * w, self.bits)
        if len(data) != need:
            raise ValueError(f"data must hold {need} bytes for this region, got {len(data)}")
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "channels", ch.astype(np.int64))

    def values(self) -> np.ndarray:
        """Dequantized region, float32 ``[len(channels), row_count, W]``."""
        n, w = self.channels.size, self.shape[2]
        q = unpack_bits(self.data, self.bits, n * self.row_count * w).reshape(n, self.row_count, w)
        return dequantize_values(q, self.scale, self.zero_point)


def encode_packets(qt: QuantizedTensor, layouts: Sequence[PacketLayout]) -> list[PacketPayload]:
    """Cut one quantized ``[C, H, W]`` tensor into payloads following ``layouts``."""
    if qt.q.ndim != 3:
        raise ValueError(f"qtensor must be [C, H, W] (one sample), got shape {qt.q.shape}")
    shape = tuple(int(v) for v in qt.q.shape)
    out = []
    for lay in layouts:
        ch = np.asarray(lay.channels, dtype=np.int64)
        region = qt.q[ch, lay.row_start:lay.row_start + lay.row_count, :]
        out.append(PacketPayload(
            lay.index, shape, qt.bits, ch, lay.row_start, lay.row_count,
            qt.scale[ch], qt.zero_point[ch], pack_bits(region, qt.bits),
        ))
    return out


def _check_mean(channel_mean: Sequence[float] | np.ndarray, c: int) -> np.ndarray:
    mean = np.asarray(channel_mean, dtype=np.float32)
    if mean.shape != (c,) or not np.all(np.isfinite(mean)):
        raise ValueError(f"channel_mean must hold {c} finite values, got shape {mean.shape}")
    return mean


class Reassembler:
    """Edge-side buffer for one task: mean-filled, overwritten by each received packet."""

    def __init__(self, shape: Sequence[int], channel_mean: Sequence[float] | np.ndarray) -> None:
        self.shape = check_shape(shape)
        c = self.shape[0]
        self._buffer = np.empty(self.shape, dtype=np.float32)
        self._buffer[:] = _check_mean(channel_mean, c)[:, None, None]
        self._received: set[int] = set()

    def add(self, payload: PacketPayload) -> bool:
        """Place one packet; returns False for a duplicate (already received) packet index."""
        if not isinstance(payload, PacketPayload):
            raise ValueError(f"payload must be a PacketPayload, got {type(payload).__name__}")
        if payload.shape != self.shape:
            raise ValueError(
                f"payload shape {list(payload.shape)} != tensor shape {list(self.shape)}"
            )
        if payload.index in self._received:
            return False
        rows = slice(payload.row_start, payload.row_start + payload.row_count)
        self._buffer[payload.channels, rows, :] = payload.values()
        self._received.add(int(payload.index))
        return True

    def add_all(self, payloads: Iterable[PacketPayload]) -> int:
        return sum(self.add(p) for p in payloads)

    @property
    def received_count(self) -> int:
        return len(self._received)

    @property
    def received(self) -> frozenset[int]:
        return frozenset(self._received)

    def tensor(self) -> np.ndarray:
        """A copy of the current float32 ``[C, H, W]`` estimate."""
        return self._buffer.copy()


def packet_masks(shape: Sequence[int], layouts: Sequence[PacketLayout]) -> np.ndarray:
    """Boolean ``[K, C, H, W]``: the region each packet covers (for batch simulation)."""
    dims = check_shape(shape)
    masks = np.zeros((len(layouts), *dims), dtype=bool)
    for lay in layouts:
        masks[lay.index, list(lay.channels), lay.row_start:lay.row_start + lay.row_count, :] = True
    return masks


def packet_index_map(shape: Sequence[int], layouts: Sequence[PacketLayout]) -> np.ndarray:
    """int32 ``[C, H, W]``: which packet (importance position) carries each element, -1 none."""
    owner = np.full(check_shape(shape), -1, dtype=np.int32)
    for lay in layouts:
        owner[list(lay.channels), lay.row_start:lay.row_start + lay.row_count, :] = lay.index
    return owner


def prefix_fill(
    x_hat: np.ndarray, owner: np.ndarray, k: int, channel_mean: Sequence[float] | np.ndarray
) -> np.ndarray:
    """What the edge holds after the first ``k`` packets: ``x_hat`` there, the mean elsewhere.

    ``x_hat`` is the dequantized tensor ``[C, H, W]`` or a batch ``[N, C, H, W]``; ``owner`` is
    ``packet_index_map(...)``. Vectorized equivalent of feeding the first ``k`` payloads to a
    ``Reassembler``; costs O(size) whatever ``k``.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    got = (owner >= 0) & (owner < k)
    mean = _check_mean(channel_mean, owner.shape[0])[:, None, None]
    return np.where(got, x_hat, mean).astype(np.float32)


class FrameReassembler:
    """Edge-side buffer of one codec frame: its bytes by packet index. A codec frame is all or
    nothing: the edge decodes it once every packet arrived (``complete``)."""

    def __init__(self, total: int) -> None:
        if not 1 <= int(total) <= 65535:
            raise ValueError(f"total: expected 1 to 65535 packets, got {total}")
        self._parts: list[bytes | None] = [None] * int(total)

    def add(self, index: int, data: bytes) -> bool:
        """Keep one packet's bytes; False for a duplicate packet index."""
        if not 0 <= int(index) < len(self._parts):
            raise ValueError(f"index: expected < {len(self._parts)}, got {index}")
        if self._parts[index] is not None:
            return False
        self._parts[index] = bytes(data)
        return True

    @property
    def received_count(self) -> int:
        return sum(p is not None for p in self._parts)

    @property
    def complete(self) -> bool:
        return all(p is not None for p in self._parts)

    def data(self) -> bytes:
        """The frame's bytes (ValueError while packets are missing)."""
        if not self.complete:
            raise ValueError(f"frame incomplete: {self.received_count} of {len(self._parts)} "
                             "packets")
        return b"".join(self._parts)
