"""Message <-> core conversions (the only place that knows both the .msg layout and the core types).

Receiving side: :func:`payload_from_msg` validates through ``PacketPayload`` and raises
``ValueError`` naming the bad field, so a node counts and drops a malformed packet.
"""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time

from enachi_ros.core.packets import PacketPayload
from enachi_ros.ros.images import PASSTHROUGH, imgmsg_to_cv2, pixel_type


def to_time(seconds: float) -> Time:
    sec = int(np.floor(seconds))
    return Time(sec=sec, nanosec=round((seconds - sec) * 1e9) % 1_000_000_000)


def to_seconds(stamp: Time) -> float:
    return float(stamp.sec) + float(stamp.nanosec) * 1e-9


def fill_packet_msg(msg, payload: PacketPayload) -> None:
    """Copy one core payload into a FeaturePacket message (arrays assigned as bytes/lists)."""
    msg.packet_index = int(payload.index)
    msg.shape = [int(v) for v in payload.shape]
    msg.channels = payload.channels.astype(np.uint32).tolist()
    msg.row_start = int(payload.row_start)
    msg.row_count = int(payload.row_count)
    msg.bits = int(payload.bits)
    msg.scale = payload.scale.astype(np.float32).tolist()
    msg.zero_point = payload.zero_point.astype(np.float32).tolist()
    msg.data = payload.data  # bytes: the fast path (never assign an ndarray)


def fill_codec_packet_msg(msg, index: int, data: bytes, input_shape) -> None:
    """One packet of a codec frame: a slice of the encoded bytes; ``shape`` is the model's
    input (the decoded frame), no channels, rows, scale or offset."""
    msg.packet_index = int(index)
    msg.shape = [int(v) for v in input_shape]
    msg.channels, msg.row_start, msg.row_count = [], 0, 0
    msg.bits = 8
    msg.scale, msg.zero_point = [], []
    msg.data = bytes(data)


def payload_from_msg(msg) -> PacketPayload:
    """Validate and convert a received FeaturePacket; ValueError names what is wrong."""
    if msg.packet_count == 0 or msg.packet_index >= msg.packet_count:
        raise ValueError(
            f"packet_index: expected < packet_count={msg.packet_count}, got {msg.packet_index}"
        )
    if len(msg.shape) != 3:
        raise ValueError(f"shape: expected [C, H, W], got {list(msg.shape)}")
    return PacketPayload(
        index=int(msg.packet_index),
        shape=tuple(int(v) for v in msg.shape),
        bits=int(msg.bits),
        channels=np.asarray(msg.channels, dtype=np.int64),
        row_start=int(msg.row_start),
        row_count=int(msg.row_count),
        scale=np.asarray(msg.scale, dtype=np.float32),
        zero_point=np.asarray(msg.zero_point, dtype=np.float32),
        data=bytes(msg.data),
    )


def image_to_array(msg) -> np.ndarray:
    """sensor_msgs/Image -> float32 [C, H, W] in [0, 1]: one-channel images as gray (C = 1),
    colour ones as RGB (C = 3). Decoded by :mod:`enachi_ros.ros.images`, whose ValueError names
    the bad field."""
    kind = pixel_type(msg.encoding)
    if kind.channels == 1 and kind.dtype == np.uint8:
        desired = PASSTHROUGH  # mono8 (or 8UC1): already 8-bit gray
    else:
        desired = "mono8" if kind.channels == 1 else "rgb8"
    img = imgmsg_to_cv2(msg, desired)
    if img.ndim == 2:
        img = img[:, :, None]
    return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32) / 255.0
