"""sensor_msgs/Image <-> numpy arrays: the project's one image conversion, with cv_bridge's API.

``imgmsg_to_cv2(img_msg, desired_encoding="passthrough")`` and
``cv2_to_imgmsg(cvim, encoding="passthrough", header=None)`` have the signatures and semantics of
``cv_bridge.CvBridge`` (the call yolo_ros and image_pipeline make): ``passthrough`` keeps the
message's pixel type (one-channel images come back as ``H x W``, others as ``H x W x C``, in
native byte order), any other ``desired_encoding`` converts between the colour encodings
(``mono8``/``mono16``, ``rgb8``/``bgr8``/``rgba8``/``bgra8`` and their 16-bit forms) with OpenCV's
colour conversions, scaling 8 <-> 16 bits by 65535/255 as cv_bridge does; a generic encoding
(``8UC3``, ``32FC1``...) converts only to another of the same channel count. Rows may be padded
(``step`` > ``width`` x pixel bytes) and multi-byte pixels may be big-endian (``is_bigendian``).

When ``cv_bridge`` is importable (an apt ROS 2 install) the conversion itself is cv_bridge's; it is
not on PyPI, so in the venv the implementation below runs. Either way every field of a received
message is checked first, and a bad one raises ``ValueError`` naming the field, its value and
what was expected (cv_bridge's ``CvBridgeError`` is re-raised as ``ValueError`` too), so a node
can count and drop a malformed image. The checks of a received message raise
:class:`~enachi_ros.ros.rejects.InputError` (a ValueError carrying ``field``, ``value`` and
``expected``), which ``ManagedNode.rejects`` counts per field. Besides the consistency of
``width``, ``height``, ``step`` and ``data``, a message larger than ``MAX_SIDE`` pixels a side or
``MAX_IMAGE_BYTES`` is refused: nothing a robot's camera sends is that big, and converting such
a message would stall the node for seconds.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from enachi_ros.ros.rejects import InputError

PASSTHROUGH = "passthrough"
MAX_SIDE = 8192  # pixels: width and height of a received image are at most this
MAX_IMAGE_BYTES = 128 * 1024 * 1024  # step x height of a received image (8K rgb8 is 100 MB)
# Colour encodings (sensor_msgs/image_encodings.hpp): name -> (family, channels, numpy dtype).
COLOR_ENCODINGS: dict[str, tuple[str, int, str]] = {
    "mono8": ("gray", 1, "uint8"), "mono16": ("gray", 1, "uint16"),
    "rgb8": ("rgb", 3, "uint8"), "rgb16": ("rgb", 3, "uint16"),
    "bgr8": ("bgr", 3, "uint8"), "bgr16": ("bgr", 3, "uint16"),
    "rgba8": ("rgba", 4, "uint8"), "rgba16": ("rgba", 4, "uint16"),
    "bgra8": ("bgra", 4, "uint8"), "bgra16": ("bgra", 4, "uint16"),
}
# OpenCV depth names of the generic encodings (``8UC3``; ``8U`` alone means one channel).
CV_DEPTHS: dict[str, str] = {"8U": "uint8", "8S": "int8", "16U": "uint16", "16S": "int16",
                             "32S": "int32", "32F": "float32", "64F": "float64"}
_DEPTH_OF_DTYPE = {dtype: depth for depth, dtype in CV_DEPTHS.items()}
_GENERIC = re.compile(r"(8U|8S|16U|16S|32S|32F|64F)(?:C([0-9]+))?")
# OpenCV colour conversion code names between families (cv_bridge's getConversionCodes).
_FAMILIES = ("gray", "rgb", "bgr", "rgba", "bgra")
_CODES: dict[tuple[str, str], str] = {
    (src, dst): f"COLOR_{src.upper()}2{dst.upper()}"
    for src in _FAMILIES for dst in _FAMILIES if src != dst
}


@dataclass(frozen=True)
class PixelType:
    """What an encoding says about a pixel: colour family (None for generic), channels, dtype."""

    family: str | None
    channels: int
    dtype: np.dtype

    @property
    def pixel_bytes(self) -> int:
        return self.channels * self.dtype.itemsize

    @property
    def cv_name(self) -> str:
        """The generic OpenCV type of these pixels (``8UC3``...)."""
        return f"{_DEPTH_OF_DTYPE[self.dtype.name]}C{self.channels}"


def pixel_type(encoding: str, field: str = "encoding") -> PixelType:
    """The pixel type of ``encoding``; ValueError naming ``field`` when it is not one we know."""
    if encoding in COLOR_ENCODINGS:
        family, channels, dtype = COLOR_ENCODINGS[encoding]
        return PixelType(family, channels, np.dtype(dtype))
    match = _GENERIC.fullmatch(encoding) if isinstance(encoding, str) else None
    if match is None or (match.group(2) is not None and int(match.group(2)) < 1):
        raise InputError(field, encoding, f"one of {sorted(COLOR_ENCODINGS)} or a generic "
                         "OpenCV type such as 8UC3 or 32FC1")
    return PixelType(None, int(match.group(2) or 1), np.dtype(CV_DEPTHS[match.group(1)]))


def check_image_msg(img_msg: Any, max_side: int = MAX_SIDE,
                    max_bytes: int = MAX_IMAGE_BYTES) -> PixelType:
    """Validate the fields of a sensor_msgs/Image; InputError names the first bad one.

    Checked before any pixel is touched, in this order: encoding, height, width (at least 1,
    at most ``max_side``), step (at least width x bytes per pixel), step x height (at most
    ``max_bytes``), and the length of data (exactly step x height).
    """
    kind = pixel_type(img_msg.encoding)
    height, width, step = int(img_msg.height), int(img_msg.width), int(img_msg.step)
    for field, value, unit in (("height", height, "rows"), ("width", width, "columns")):
        if not 1 <= value <= max_side:
            raise InputError(field, value, f"1 to {max_side} {unit}")
    row = width * kind.pixel_bytes
    if step < row:
        raise InputError("step", step, f"at least width x {kind.pixel_bytes} bytes per pixel "
                         f"({img_msg.encoding}) = {row} bytes per row")
    if step * height > max_bytes:
        raise InputError("step", step, f"step x height ({height} rows) at most {max_bytes} "
                         f"bytes, i.e. at most {max_bytes // height} bytes per row")
    size = len(img_msg.data)
    if size != step * height:
        raise InputError("data", size,
                         f"step x height = {step} x {height} = {step * height} bytes")
    return kind


def _data_bytes(data: Any) -> np.ndarray:
    """The message's pixel buffer as uint8, without a copy where the container allows it."""
    if isinstance(data, list):
        return np.asarray(data, dtype=np.uint8)
    return np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)


def _message_pixels(img_msg: Any, kind: PixelType) -> np.ndarray:
    """The pixels of a checked message, in native byte order, ``H x W`` or ``H x W x C``."""
    height, width, step = int(img_msg.height), int(img_msg.width), int(img_msg.step)
    raw = _data_bytes(img_msg.data).reshape(height, step)[:, : width * kind.pixel_bytes]
    order = ">" if img_msg.is_bigendian else "<"
    pixels = np.ascontiguousarray(raw).view(kind.dtype.newbyteorder(order))
    pixels = pixels.astype(kind.dtype.newbyteorder("="), copy=False)  # native order
    if kind.channels == 1:
        return pixels.reshape(height, width)
    return pixels.reshape(height, width, kind.channels)


def _change_depth(image: np.ndarray, src: PixelType, dst: PixelType) -> np.ndarray:
    """cv_bridge's SAME_FORMAT step: a new depth, scaled between 8 and 16 bits (convertTo)."""
    if src.dtype == dst.dtype:
        return image
    scale = 1.0
    if src.dtype.kind == "u" and dst.dtype.kind == "u":
        bits = (src.dtype.itemsize * 8, dst.dtype.itemsize * 8)
        scale = {(8, 16): 65535.0 / 255.0, (16, 8): 255.0 / 65535.0}.get(bits, 1.0)
    if dst.dtype.kind == "f":
        return (image.astype(np.float64) * scale).astype(dst.dtype)
    info = np.iinfo(dst.dtype)  # saturate_cast: round half to even, clip to the range
    return np.clip(np.rint(image.astype(np.float64) * scale), info.min, info.max).astype(dst.dtype)


def _convert(image: np.ndarray, encoding: str, src: PixelType, desired: str) -> np.ndarray:
    """cv_bridge's cvtColor2(image, encoding, desired) for the encodings this module knows."""
    dst = pixel_type(desired, "desired_encoding")
    if desired == encoding:
        return image.copy()
    if src.family is None or dst.family is None:
        if src.family is None and dst.family is not None:
            raise ValueError(f"desired_encoding: {encoding} is not a colour format but "
                             f"{desired} is; the conversion does not make sense")
        if src.channels != dst.channels:
            raise ValueError(f"desired_encoding: {encoding} has {src.channels} channels, "
                             f"{desired} has {dst.channels}; expected the same number")
        return _change_depth(image, src, dst)
    if src.family != dst.family:
        import cv2

        code = getattr(cv2, _CODES[src.family, dst.family])
        image = cv2.cvtColor(np.ascontiguousarray(image), code)
    return _change_depth(image, src, dst)


def _load_bridge() -> Any:
    try:
        from cv_bridge import CvBridge
    except ImportError:
        return None
    return CvBridge()


_BRIDGE = _load_bridge()  # the real cv_bridge where importable (apt ROS 2), else None


def imgmsg_to_cv2(img_msg: Any, desired_encoding: str = PASSTHROUGH) -> np.ndarray:
    """A sensor_msgs/Image as an array (cv_bridge's ``CvBridge.imgmsg_to_cv2``).

    ``desired_encoding``: ``"passthrough"`` (the message's own pixel type) or an encoding to
    convert to. ValueError names the bad field of the message or the impossible conversion.
    """
    kind = check_image_msg(img_msg)
    if desired_encoding != PASSTHROUGH:
        pixel_type(desired_encoding, "desired_encoding")
    if _BRIDGE is not None:
        try:
            return _BRIDGE.imgmsg_to_cv2(img_msg, desired_encoding)
        except TypeError as exc:  # cv_bridge.CvBridgeError
            raise ValueError(f"desired_encoding: {exc}") from exc
    image = _message_pixels(img_msg, kind)
    if desired_encoding == PASSTHROUGH:
        return image
    return _convert(image, img_msg.encoding, kind, desired_encoding)


def cv_type(cvim: np.ndarray) -> str:
    """The generic OpenCV type name (``8UC3``...) of an array; ValueError for other dtypes."""
    depth = _DEPTH_OF_DTYPE.get(cvim.dtype.name)
    if depth is None:
        raise ValueError(f"cvim: expected pixels of dtype {sorted(CV_DEPTHS.values())}, "
                         f"got {cvim.dtype}")
    return f"{depth}C{1 if cvim.ndim == 2 else cvim.shape[2]}"


def cv2_to_imgmsg(cvim: np.ndarray, encoding: str = PASSTHROUGH, header: Any = None) -> Any:
    """An array as a sensor_msgs/Image (cv_bridge's ``CvBridge.cv2_to_imgmsg``).

    ``encoding``: ``"passthrough"`` (the array's OpenCV type, e.g. ``8UC3``) or an encoding whose
    pixel type matches the array's (``rgb8`` for ``H x W x 3`` uint8); ``header``: a
    std_msgs/Header to copy in. Rows are packed (``step`` = width x pixel bytes).
    """
    if not isinstance(cvim, np.ndarray | np.generic):
        raise TypeError(f"cvim: expected a numpy array, got {type(cvim).__name__}")
    cvim = np.asarray(cvim)
    if cvim.ndim not in (2, 3) or 0 in cvim.shape:
        raise ValueError(f"cvim: expected a non-empty H x W or H x W x C image, got shape "
                         f"{cvim.shape}")
    actual = cv_type(cvim)
    if encoding != PASSTHROUGH:
        expected = pixel_type(encoding).cv_name
        if expected != actual:
            raise ValueError(f"encoding: {encoding} needs {expected} pixels, the image has "
                             f"{actual} (shape {cvim.shape}, dtype {cvim.dtype})")
    if _BRIDGE is not None:
        try:
            return _BRIDGE.cv2_to_imgmsg(cvim, encoding, header)
        except TypeError as exc:  # cv_bridge.CvBridgeError
            raise ValueError(f"encoding: {exc}") from exc
    from sensor_msgs.msg import Image

    msg = Image()
    if header is not None:
        msg.header = header
    msg.height, msg.width = int(cvim.shape[0]), int(cvim.shape[1])
    msg.encoding = actual if encoding == PASSTHROUGH else encoding
    order = cvim.dtype.byteorder
    msg.is_bigendian = int(order == ">" or (order == "=" and sys.byteorder == "big"))
    msg.data = np.ascontiguousarray(cvim).tobytes()  # bytes: assigning ndarrays is ~1000x slower
    msg.step = len(msg.data) // msg.height
    return msg
