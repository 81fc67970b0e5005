"""Per-channel affine quantization of feature tensors (docs/DESIGN.md, packet protocol).

``q = clip(round(x / scale + zero_point), 0, 2**bits - 1)`` and ``x_hat = (q - zero_point) *
scale``, one ``(scale, zero_point)`` pair per channel, both float32 (the wire format carries them
as float32). The zero point is real-valued rather than an integer so the reconstruction error is
bounded by ``scale / 2`` for every value in the channel's range. Values below 8 bits are packed
little-endian within bytes: value ``i`` occupies bits ``(i % per_byte) * bits`` upward of byte
``i // per_byte`` (channel-major, row-major within a channel).

All functions work on ``[C, H, W]`` or batched ``[N, C, H, W]`` arrays and are vectorized.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUPPORTED_BITS = (8, 4, 2)


def check_bits(bits: int) -> int:
    """Validate a bit width; returns it as int."""
    if int(bits) != bits or int(bits) not in SUPPORTED_BITS:
        raise ValueError(f"bits must be one of {SUPPORTED_BITS}, got {bits!r}")
    return int(bits)


@dataclass(frozen=True)
class QuantizedTensor:
    """Quantized values ``q`` (uint8, same shape as the input) and per-channel parameters.

    ``scale`` and ``zero_point`` have shape ``[C]`` (or ``[N, C]`` for a batch).
    """

    q: np.ndarray
    scale: np.ndarray
    zero_point: np.ndarray
    bits: int

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.q.shape)


def _as_features(x: np.ndarray, name: str = "x") -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim not in (3, 4):
        raise ValueError(f"{name} must be [C, H, W] or [N, C, H, W], got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def quantize(x: np.ndarray, bits: int = 8) -> QuantizedTensor:
    """Quantize ``x`` ([C,H,W] or [N,C,H,W]) per channel to ``bits`` in {8, 4, 2}."""
    bits = check_bits(bits)
    arr = _as_features(x).astype(np.float64, copy=False)
    levels = (1 << bits) - 1
    lo = arr.min(axis=(-2, -1))
    hi = arr.max(axis=(-2, -1))
    scale = ((hi - lo) / levels).astype(np.float32)
    scale[~(scale > 0)] = 1.0  # constant channel: any positive scale reproduces it exactly
    zero_point = (-lo / scale.astype(np.float64)).astype(np.float32)
    s = scale.astype(np.float64)[..., None, None]
    z = zero_point.astype(np.float64)[..., None, None]
    q = np.clip(np.rint(arr / s + z), 0, levels).astype(np.uint8)
    return QuantizedTensor(q, scale, zero_point, bits)


def dequantize(qt: QuantizedTensor) -> np.ndarray:
    """Float32 reconstruction ``(q - zero_point) * scale``."""
    return dequantize_values(qt.q, qt.scale, qt.zero_point)


def dequantize_values(q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray) -> np.ndarray:
    """Reconstruct ``q[..., C, H, W]`` (or a packet's ``q[C, rows, W]``), per-channel params."""
    s = np.asarray(scale, dtype=np.float64)[..., None, None]
    z = np.asarray(zero_point, dtype=np.float64)[..., None, None]
    return ((q.astype(np.float64) - z) * s).astype(np.float32)


def fake_quantize(x: np.ndarray, bits: int = 8) -> np.ndarray:
    """``dequantize(quantize(x, bits))``: what the edge sees when every packet arrives."""
    return dequantize(quantize(x, bits))


def packed_size(n_values: int, bits: int) -> int:
    """Bytes needed for ``n_values`` values of ``bits`` bits packed densely."""
    bits = check_bits(bits)
    return (int(n_values) * bits + 7) // 8


def pack_bits(values: np.ndarray, bits: int) -> bytes:
    """Pack uint8 values (< 2**bits) little-endian within bytes; flattens in C order."""
    bits = check_bits(bits)
    flat = np.ascontiguousarray(values, dtype=np.uint8).ravel()
    if bits == 8:
        return flat.tobytes()
    if flat.size and int(flat.max()) >= (1 << bits):
        raise ValueError(f"values must be < {1 << bits} for bits={bits}, got max {int(flat.max())}")
    per_byte = 8 // bits
    padded = np.zeros(-(-flat.size // per_byte) * per_byte, dtype=np.uint8)
    padded[: flat.size] = flat
    shifts = (np.arange(per_byte, dtype=np.uint8) * bits)[None, :]
    return np.bitwise_or.reduce(padded.reshape(-1, per_byte) << shifts, axis=1).astype(
        np.uint8
    ).tobytes()


def unpack_bits(data: bytes, bits: int, n_values: int) -> np.ndarray:
    """Inverse of ``pack_bits``: the first ``n_values`` values as uint8."""
    bits = check_bits(bits)
    need = packed_size(n_values, bits)
    if len(data) != need:
        raise ValueError(
            f"data must hold {need} bytes for {n_values} values at {bits} bits, got {len(data)}"
        )
    raw = np.frombuffer(bytes(data), dtype=np.uint8)
    if bits == 8:
        return raw.copy()
    per_byte = 8 // bits
    shifts = (np.arange(per_byte, dtype=np.uint8) * bits)[None, :]
    mask = np.uint8((1 << bits) - 1)
    return ((raw[:, None] >> shifts) & mask).ravel()[:n_values]
