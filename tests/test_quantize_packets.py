"""Properties of the quantization and packet protocol (core, numpy only)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from enachi_ros.core.packets import (
    PacketPayload,
    Reassembler,
    encode_packets,
    packet_index_map,
    packet_masks,
    payload_bytes,
    plan_packets,
    prefix_fill,
)
from enachi_ros.core.quantize import (
    dequantize,
    fake_quantize,
    pack_bits,
    packed_size,
    quantize,
    unpack_bits,
)

BITS = st.sampled_from([8, 4, 2])
SHAPES = st.tuples(st.integers(1, 12), st.integers(1, 9), st.integers(1, 9))
FLOATS = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@st.composite
def tensors(draw):
    shape = draw(SHAPES)
    return draw(arrays(np.float32, shape, elements=FLOATS))


@settings(max_examples=60, deadline=None)
@given(tensors(), BITS)
def test_quantize_error_bounded_by_half_step(x, bits):
    qt = quantize(x, bits)
    err = np.abs(dequantize(qt).astype(np.float64) - x)
    span = np.abs(x).max(axis=(1, 2))
    bound = qt.scale.astype(np.float64) / 2 * (1 + 1e-5) + 1e-6 * (1 + span)
    assert np.all(err.max(axis=(1, 2)) <= bound)
    assert qt.q.max() <= (1 << bits) - 1


def test_quantize_batched_matches_per_sample():
    x = np.random.default_rng(0).normal(size=(3, 4, 5, 6)).astype(np.float32)
    batch = fake_quantize(x, 4)
    for i in range(3):
        np.testing.assert_array_equal(batch[i], fake_quantize(x[i], 4))


@settings(max_examples=60, deadline=None)
@given(st.data(), BITS)
def test_pack_unpack_round_trip(data, bits):
    n = data.draw(st.integers(0, 70))
    values = np.asarray(data.draw(st.lists(st.integers(0, (1 << bits) - 1), min_size=n,
                                           max_size=n)), dtype=np.uint8)
    packed = pack_bits(values, bits)
    assert len(packed) == packed_size(n, bits)
    np.testing.assert_array_equal(unpack_bits(packed, bits, n), values)


def test_pack_is_little_endian_within_bytes():
    assert pack_bits(np.array([1, 2, 3, 0], dtype=np.uint8), 2) == bytes([0b00111001])
    assert pack_bits(np.array([0xA, 0x5], dtype=np.uint8), 4) == bytes([0x5A])


@settings(max_examples=60, deadline=None)
@given(tensors(), BITS, st.integers(8, 300), st.integers(1, 10), st.data())
def test_packets_round_trip_and_subsets(x, bits, max_payload, min_packets, data):
    c, _, w = x.shape
    if packed_size(w, bits) > max_payload:
        with pytest.raises(ValueError, match="max_payload_bytes"):
            plan_packets(x.shape, bits, None, max_payload, min_packets)
        return
    order = data.draw(st.permutations(range(c)))
    layouts = plan_packets(x.shape, bits, order, max_payload, min_packets)
    qt = quantize(x, bits)
    payloads = encode_packets(qt, layouts)
    assert all(len(p.data) <= max_payload for p in payloads)
    sizes = [payload_bytes(lay, x.shape, bits) for lay in layouts]
    assert [len(p.data) for p in payloads] == sizes
    # importance order is respected
    seq = [ch for lay in layouts for ch in lay.channels]
    assert [ch for i, ch in enumerate(seq) if i == 0 or ch != seq[i - 1]] == list(order)
    # the layout covers every element exactly once
    assert np.all(packet_masks(x.shape, layouts).sum(axis=0) == 1)
    mean = np.arange(c, dtype=np.float32) - 0.5
    full = Reassembler(x.shape, mean)
    full.add_all(payloads)
    np.testing.assert_array_equal(full.tensor(), dequantize(qt))
    subset = data.draw(st.lists(st.sampled_from(range(len(layouts))), unique=True))
    part = Reassembler(x.shape, mean)
    for i in subset:
        assert part.add(payloads[i])
    assert part.received_count == len(subset)
    got = packet_masks(x.shape, layouts)[subset].any(axis=0) if subset else np.zeros(x.shape, bool)
    expected = np.where(got, dequantize(qt), mean[:, None, None])
    np.testing.assert_array_equal(part.tensor(), expected)


def test_plan_packets_formula_and_row_bands():
    # 32 x 14 x 14 at 8 bits: channel 196 B, min(floor(1024/196)=5, ceil(32/8)=4) = 4 per packet
    layouts = plan_packets((32, 14, 14), 8)
    assert len(layouts) == 8 and all(len(lay.channels) == 4 for lay in layouts)
    # a 224 x 224 channel (50176 B) is cut into bands of 4 rows
    bands = plan_packets((3, 224, 224), 8)
    assert len(bands) == 3 * 56 and bands[0].row_count == 4 and len(bands[0].channels) == 1
    assert max(payload_bytes(b, (3, 224, 224), 8) for b in bands) <= 1024


def test_prefix_fill_matches_reassembler():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 4, 4)).astype(np.float32)
    order = rng.permutation(16)
    layouts = plan_packets(x.shape, 8, order)
    qt = quantize(x, 8)
    payloads = encode_packets(qt, layouts)
    mean = rng.normal(size=16).astype(np.float32)
    owner = packet_index_map(x.shape, layouts)
    np.testing.assert_array_equal(owner, packet_masks(x.shape, layouts).argmax(axis=0))
    for k in range(len(layouts) + 1):
        r = Reassembler(x.shape, mean)
        r.add_all(payloads[:k])
        np.testing.assert_array_equal(prefix_fill(dequantize(qt), owner, k, mean), r.tensor())


def _payload(**override):
    fields = dict(index=0, shape=(2, 2, 2), bits=8, channels=np.array([0]), row_start=0,
                  row_count=2, scale=[1.0], zero_point=[0.0], data=bytes(4))
    fields.update(override)
    return PacketPayload(**fields)


@pytest.mark.parametrize("override, field", [
    ({"bits": 3}, "bits"),
    ({"shape": (2, 2)}, "shape"),
    ({"channels": np.array([5])}, "channels"),
    ({"channels": np.array([], dtype=int)}, "channels"),
    ({"row_start": 1}, "row_start"),
    ({"scale": [0.0]}, "scale"),
    ({"zero_point": [1.0, 2.0]}, "zero_point"),
    ({"data": bytes(3)}, "data"),
])
def test_malformed_packet_raises_value_error_naming_field(override, field):
    with pytest.raises(ValueError, match=field):
        _payload(**override)


def test_reassembler_rejects_wrong_shape_and_ignores_duplicates():
    r = Reassembler((2, 2, 2), [0.0, 0.0])
    assert r.add(_payload()) and not r.add(_payload())
    assert r.received_count == 1
    with pytest.raises(ValueError, match="shape"):
        r.add(_payload(shape=(3, 2, 2)))
    with pytest.raises(ValueError, match="channel_mean"):
        Reassembler((2, 2, 2), [0.0])


def test_bad_inputs_name_the_parameter():
    with pytest.raises(ValueError, match="bits"):
        quantize(np.zeros((1, 2, 2)), 5)
    with pytest.raises(ValueError, match="contains NaN"):
        quantize(np.full((1, 2, 2), np.nan), 8)
    with pytest.raises(ValueError, match="importance_order"):
        plan_packets((3, 2, 2), 8, [0, 0, 1])
    with pytest.raises(ValueError, match="min_packets"):
        plan_packets((3, 2, 2), 8, None, 1024, 0)
