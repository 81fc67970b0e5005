"""ros/images.py: cv_bridge's imgmsg_to_cv2 / cv2_to_imgmsg (round trips for every encoding, padded
rows, big-endian pixels, conversions) and the refusal of every bad field, by name."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from enachi_ros.ros import images
from enachi_ros.ros.images import COLOR_ENCODINGS, cv2_to_imgmsg, imgmsg_to_cv2, pixel_type
from enachi_ros.ros.messages import image_to_array
from enachi_ros.ros.rejects import InputError

GENERIC = ("8UC1", "8UC3", "16UC1", "16SC2", "32FC1", "64FC3", "8U")
ENCODINGS = (*COLOR_ENCODINGS, *GENERIC)


def pixels(encoding: str, height: int, width: int, seed: int) -> np.ndarray:
    kind = pixel_type(encoding)
    rng = np.random.default_rng(seed)
    shape = (height, width) if kind.channels == 1 else (height, width, kind.channels)
    if kind.dtype.kind == "f":
        return rng.normal(size=shape).astype(kind.dtype)
    info = np.iinfo(kind.dtype)
    return rng.integers(info.min, info.max, size=shape, dtype=kind.dtype, endpoint=True)


def raw_msg(arr: np.ndarray, encoding: str, *, pad: int = 0, big: bool = False) -> Image:
    """An Image built by hand (not by the module under test): rows padded by ``pad`` bytes."""
    order = ">" if big else "<"
    body = arr.astype(arr.dtype.newbyteorder(order)).reshape(arr.shape[0], -1).view(np.uint8)
    rows = np.concatenate([body, np.full((arr.shape[0], pad), 0xAB, np.uint8)], axis=1)
    return Image(height=arr.shape[0], width=arr.shape[1], encoding=encoding, is_bigendian=big,
                 step=rows.shape[1], data=rows.tobytes())


sizes = st.integers(min_value=1, max_value=12)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@settings(max_examples=60, deadline=None)
@given(encoding=st.sampled_from(ENCODINGS), height=sizes, width=sizes, seed=seeds)
def test_every_encoding_round_trips(encoding: str, height: int, width: int, seed: int) -> None:
    arr = pixels(encoding, height, width, seed)
    header = Header(frame_id="r/cam")
    header.stamp.sec = 7
    msg = cv2_to_imgmsg(arr, encoding, header=header)
    kind = pixel_type(encoding)
    assert (msg.height, msg.width, msg.encoding) == (height, width, encoding)
    assert msg.step == width * kind.pixel_bytes and not msg.is_bigendian
    assert (msg.header.frame_id, msg.header.stamp.sec) == ("r/cam", 7)
    for desired in ("passthrough", encoding):
        back = imgmsg_to_cv2(msg, desired)
        assert back.dtype == arr.dtype and np.array_equal(back, arr)
    passthrough = cv2_to_imgmsg(arr)
    assert passthrough.encoding == kind.cv_name
    assert np.array_equal(imgmsg_to_cv2(passthrough), arr)


@settings(max_examples=60, deadline=None)
@given(encoding=st.sampled_from(ENCODINGS), height=sizes, width=sizes, seed=seeds,
       pad=st.integers(min_value=0, max_value=9), big=st.booleans())
def test_padded_rows_and_byte_order_are_honoured(encoding: str, height: int, width: int,
                                                 seed: int, pad: int, big: bool) -> None:
    arr = pixels(encoding, height, width, seed)
    msg = raw_msg(arr, encoding, pad=pad, big=big)
    back = imgmsg_to_cv2(msg)
    assert back.dtype.isnative and np.array_equal(back, arr)
    assert back.shape == arr.shape


def test_colour_conversions_follow_cv_bridge() -> None:
    rgb = pixels("rgb8", 5, 7, 1)
    msg = cv2_to_imgmsg(rgb, "rgb8")
    assert np.array_equal(imgmsg_to_cv2(msg, "bgr8"), rgb[:, :, ::-1])
    assert np.array_equal(imgmsg_to_cv2(msg, "mono8"), cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    rgba = imgmsg_to_cv2(msg, "rgba8")
    assert np.array_equal(rgba[:, :, :3], rgb) and np.all(rgba[:, :, 3] == 255)
    bgra = cv2_to_imgmsg(np.ascontiguousarray(rgba[:, :, [2, 1, 0, 3]]), "bgra8")
    assert np.array_equal(imgmsg_to_cv2(bgra, "rgb8"), rgb)
    gray = pixels("mono8", 4, 3, 2)
    mono = cv2_to_imgmsg(gray, "mono8")
    assert np.array_equal(imgmsg_to_cv2(mono, "rgb8"), np.repeat(gray[:, :, None], 3, axis=2))
    wide = imgmsg_to_cv2(mono, "mono16")  # 8 -> 16 bits scales by 65535 / 255 = 257
    assert wide.dtype == np.uint16 and np.array_equal(wide, gray.astype(np.uint16) * 257)
    assert np.array_equal(imgmsg_to_cv2(cv2_to_imgmsg(wide, "mono16"), "mono8"), gray)
    rgb16 = imgmsg_to_cv2(msg, "rgb16")
    assert np.array_equal(rgb16, rgb.astype(np.uint16) * 257)
    generic = cv2_to_imgmsg(rgb)  # 8UC3: no colour information, only same-channel conversions
    with pytest.raises(ValueError, match="desired_encoding: 8UC3 is not a colour format"):
        imgmsg_to_cv2(generic, "rgb8")
    with pytest.raises(ValueError, match=r"desired_encoding: .*expected the same number"):
        imgmsg_to_cv2(generic, "8UC1")
    assert imgmsg_to_cv2(generic, "32FC3").dtype == np.float32
    with pytest.raises(ValueError, match="desired_encoding: expected one of"):
        imgmsg_to_cv2(msg, "jpeg")


BAD_FIELDS = {
    "encoding": lambda m: setattr(m, "encoding", "yuv9"),
    "height": lambda m: setattr(m, "height", 0),
    "width": lambda m: setattr(m, "width", 0),
    "step": lambda m: setattr(m, "step", m.width * pixel_type(m.encoding).pixel_bytes - 1),
    "data": lambda m: setattr(m, "data", bytes(m.data)[:-1]),
}


@settings(max_examples=60, deadline=None)
@given(encoding=st.sampled_from(ENCODINGS), height=sizes, width=sizes, seed=seeds,
       field=st.sampled_from(sorted(BAD_FIELDS)), extra=st.integers(1, 5))
def test_bad_fields_are_refused_by_name(encoding: str, height: int, width: int, seed: int,
                                        field: str, extra: int) -> None:
    msg = raw_msg(pixels(encoding, height, width, seed), encoding, pad=2)
    BAD_FIELDS[field](msg)
    with pytest.raises(ValueError, match=f"^{field}: expected .*, got"):
        imgmsg_to_cv2(msg)
    with pytest.raises(ValueError, match=f"^{field}: "):
        image_to_array(msg)
    if field == "data":  # too long is as wrong as too short
        msg.data = bytes(msg.step * msg.height + extra)
        with pytest.raises(ValueError, match=r"^data: expected step x height = "):
            imgmsg_to_cv2(msg)


def test_degenerate_images_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^height: expected 1 to 8192 rows, got 0"):
        imgmsg_to_cv2(Image(height=0, width=0, encoding="mono8", step=0, data=b""))
    with pytest.raises(ValueError, match=r"^cvim: expected a non-empty"):
        cv2_to_imgmsg(np.zeros((0, 0), np.uint8))
    with pytest.raises(ValueError, match=r"^cvim: expected a non-empty"):
        cv2_to_imgmsg(np.zeros((4, 0, 3), np.uint8))
    with pytest.raises(ValueError, match=r"^cvim: expected pixels of dtype"):
        cv2_to_imgmsg(np.zeros((2, 2), np.uint32))
    with pytest.raises(ValueError, match=r"^encoding: rgb8 needs 8UC3 pixels, the image has 8UC1"):
        cv2_to_imgmsg(np.zeros((2, 2), np.uint8), "rgb8")
    with pytest.raises(TypeError, match="cvim: expected a numpy array"):
        cv2_to_imgmsg([[1, 2], [3, 4]])


def test_big_endian_arrays_are_marked_and_read_back() -> None:
    arr = np.arange(12, dtype=">u2").reshape(3, 4)
    msg = cv2_to_imgmsg(arr, "mono16")
    assert msg.is_bigendian and bytes(msg.data)[:2] == b"\x00\x00" and bytes(msg.data)[3] == 1
    back = imgmsg_to_cv2(msg)
    assert back.dtype.isnative and np.array_equal(back, arr)


def test_head_input_is_rgb_or_gray_float_chw() -> None:
    rgb = pixels("rgb8", 3, 5, 4)
    for encoding, arr in (("rgb8", rgb), ("bgr8", rgb[:, :, ::-1]),
                          ("bgra8", np.dstack([rgb[:, :, ::-1], np.full((3, 5), 9, np.uint8)]))):
        out = image_to_array(raw_msg(np.ascontiguousarray(arr), encoding, pad=3))
        assert out.dtype == np.float32 and out.shape == (3, 3, 5)
        assert np.array_equal(out, rgb.transpose(2, 0, 1).astype(np.float32) / 255.0)
    gray = pixels("mono8", 3, 5, 5)
    for encoding in ("mono8", "8UC1"):
        out = image_to_array(raw_msg(gray, encoding))
        assert out.shape == (1, 3, 5) and np.array_equal(out[0], gray / np.float32(255.0))


def test_the_real_cv_bridge_is_used_when_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple] = []

    class FakeBridge:  # stands in for cv_bridge.CvBridge, which is not on PyPI
        def imgmsg_to_cv2(self, img_msg, desired_encoding="passthrough"):
            calls.append(("imgmsg_to_cv2", desired_encoding))
            if desired_encoding == "bgr16":
                raise TypeError("Unsupported conversion")  # CvBridgeError is a TypeError
            return np.zeros((img_msg.height, img_msg.width), np.uint8)

        def cv2_to_imgmsg(self, cvim, encoding="passthrough", header=None):
            calls.append(("cv2_to_imgmsg", encoding, header))
            return Image(encoding=encoding)

    monkeypatch.setattr(images, "_BRIDGE", FakeBridge())
    msg = raw_msg(pixels("mono8", 2, 3, 0), "mono8")
    assert imgmsg_to_cv2(msg, "mono8").shape == (2, 3)
    with pytest.raises(ValueError, match=r"^desired_encoding: Unsupported conversion"):
        imgmsg_to_cv2(msg, "bgr16")
    msg.step = 1
    with pytest.raises(ValueError, match=r"^step: "):  # checked before cv_bridge sees it
        imgmsg_to_cv2(msg)
    header = Header(frame_id="x")
    assert cv2_to_imgmsg(np.zeros((2, 2), np.uint8), "mono8", header).encoding == "mono8"
    assert calls == [("imgmsg_to_cv2", "mono8"), ("imgmsg_to_cv2", "bgr16"),
                     ("cv2_to_imgmsg", "mono8", header)]


@settings(max_examples=60, deadline=None)
@given(encoding=st.sampled_from(ENCODINGS), height=sizes, width=sizes, pad=st.integers(0, 9),
       limit=st.integers(1, 12), seed=seeds)
def test_sizes_beyond_the_limits_are_refused_by_field(encoding: str, height: int, width: int,
                                                      pad: int, limit: int, seed: int) -> None:
    """width/height above max_side and step x height above max_bytes are refused before any
    pixel is read, with an InputError that carries the field, its value and the limit."""
    msg = raw_msg(pixels(encoding, height, width, seed), encoding, pad=pad)
    try:
        images.check_image_msg(msg, max_side=limit)
        assert height <= limit and width <= limit
    except InputError as exc:
        assert (exc.field, exc.value) in {("height", height), ("width", width)}
        assert exc.value > limit and f"1 to {limit}" in exc.expected
    size = msg.step * msg.height
    try:
        images.check_image_msg(msg, max_bytes=size - 1)
        raise AssertionError("step x height above max_bytes accepted")
    except InputError as exc:
        assert (exc.field, exc.value) == ("step", msg.step)
        assert f"at most {size - 1} bytes" in exc.expected
    assert images.check_image_msg(msg, max_bytes=size) == pixel_type(encoding)


def test_every_field_error_is_an_input_error_with_the_field() -> None:
    """What a node counts (ManagedNode.rejects) comes from the InputError's field."""
    good = raw_msg(pixels("rgb8", 3, 4, 0), "rgb8")
    cases = {"encoding": {"encoding": "yuv422"}, "height": {"height": 0},
             "width": {"width": images.MAX_SIDE + 1}, "step": {"step": 11},
             "data": {"data": bytes(good.data)[:-3]}}
    for field, changes in cases.items():
        msg = raw_msg(pixels("rgb8", 3, 4, 0), "rgb8")
        for key, value in changes.items():
            setattr(msg, key, value)
        with pytest.raises(InputError) as info:
            imgmsg_to_cv2(msg, "mono8")
        assert info.value.field == field, (field, str(info.value))
    assert imgmsg_to_cv2(good, "mono8").shape == (3, 4)
