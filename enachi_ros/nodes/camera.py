"""Camera node: the robot's frame source, publishing ``camera/image`` (and its capture record).

Sources (parameter ``source``): ``synthetic`` (a moving test pattern, runnable anywhere, like
image_tools/cam2image), ``folder`` (image files), ``video`` (a file through OpenCV), ``device``
(a V4L2 index through OpenCV), ``fmnist`` (Fashion-MNIST TEST-split replay with labels),
``frames`` (the labelled 160x160 camera frames of ``models.frames``, TEST split, with labels) and
``topic`` (an external sensor_msgs/Image topic, e.g. a Gazebo camera, resized and republished
with its original stamp).

Why a GroundTruth for *every* frame (label -1 when the source has none): images are
BEST_EFFORT sensor data, so counting them downstream is not an honest count of what was
captured. The GroundTruth of a frame goes out RELIABLE, before the image and with the same
stamp, so the recorder's ``frames_captured`` is exact and "every captured frame has exactly one
outcome" can be checked. The capture record is TRANSIENT_LOCAL: a consumer that matches late
(the head, a recorder) still receives the records of the frames captured before, so each of those
frames still gets its outcome (a drop when its image was missed).

A managed node: configure checks the parameters and opens the source (a missing folder fails
configure, naming ``source_uri``); activate creates the topics and starts capture; deactivate
stops capture at once (a lifecycle manager deactivates the cameras first, so in-flight frames can
finish before the rest of the fleet stops).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from enachi_interfaces.msg import GroundTruth
from rclpy.time import Time
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from enachi_ros.ros import qos, topics
from enachi_ros.ros.images import cv2_to_imgmsg, imgmsg_to_cv2
from enachi_ros.ros.lifecycle import ManagedNode
from enachi_ros.ros.params import Param, ParameterError
from enachi_ros.ros.spin import spin_node

SOURCES = ("synthetic", "folder", "video", "device", "fmnist", "frames", "topic")
ENCODINGS = ("mono8", "rgb8")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".tif", ".tiff", ".webp")

# Longest wait after activation for a consumer of the images before capture starts anyway (s).
CONSUMER_WAIT_S = 2.0

PARAMS: tuple[Param, ...] = (
    Param("robot_id", "robot1",
          "id (namespace) of this robot; frame_id is <robot_id>/camera_optical_frame",
          check=lambda v: bool(v) and "/" not in v.strip("/"), expected="a single namespace token",
          read_only=True),
    Param("model", "fmnist_resnet", "registered split model of this robot (informational here)",
          read_only=True),
    Param("source", "fmnist", "where frames come from", choices=SOURCES, read_only=True),
    Param("source_uri", "", "folder, video file, device index or external image topic",
          read_only=True),
    Param("frame_rate", 5.0, "frames captured per second (topic source: ignored)",
          low=0.01, high=1000.0, read_only=True),
    Param("width", 28, "output image width in pixels", low=1, high=8192, read_only=True),
    Param("height", 28, "output image height in pixels", low=1, high=8192, read_only=True),
    Param("encoding", "mono8", "output pixel encoding", choices=ENCODINGS, read_only=True),
    Param("loop", True, "replay folders, videos and the data set forever", read_only=True),
    Param("qos_depth", 5, "KEEP_LAST depth of camera/image", low=1, high=1000, read_only=True),
    Param("seed", 0, "fmnist replay order: 0 = test-set order, > 0 = a permutation from this seed",
          low=0, read_only=True),
    Param("phase_s", -1.0, "delay of the first capture after activation (s); < 0: random in "
          "[0, 1/frame_rate), as the free-running cameras of different robots are",
          high=1000.0, read_only=True),
    Param("max_frames", 0, "stop capturing after this many frames (0 = unlimited)", low=0,
          read_only=True),
)


# ----------------------------------------------------------------------------- pixel helpers
def convert(frame: np.ndarray, width: int, height: int, encoding: str) -> np.ndarray:
    """``frame`` (HxW gray, HxWx3 RGB or HxWx4 RGBA, uint8) resized and in ``encoding``."""
    import cv2

    if frame.dtype != np.uint8:
        raise ValueError(f"frame: expected uint8 pixels, got {frame.dtype}")
    if frame.ndim == 3 and frame.shape[2] == 4:
        frame = frame[:, :, :3]
    if encoding == "mono8" and frame.ndim == 3:
        frame = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    elif encoding == "rgb8" and frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    if frame.shape[1] != width or frame.shape[0] != height:
        shrink = frame.shape[1] > width or frame.shape[0] > height
        frame = cv2.resize(frame, (width, height),
                           interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return np.ascontiguousarray(frame)


# ----------------------------------------------------------------------------- frame sources
# Each source yields (frame, label, sample_index); label -1 when unknown.
Frame = tuple[np.ndarray, int, int]


def synthetic_frames(width: int, height: int) -> Iterator[Frame]:
    """A moving gradient with a bright square: cheap, deterministic, obviously alive."""
    yy, xx = np.mgrid[0:height, 0:width]
    n = 0
    while True:
        img = ((xx + yy + 4 * n) % 256).astype(np.uint8)
        side = max(1, min(width, height) // 4)
        x0 = (2 * n) % max(1, width - side + 1)
        y0 = (n // 2) % max(1, height - side + 1)
        img[y0:y0 + side, x0:x0 + side] = 255
        yield img, -1, n
        n += 1


def fmnist_frames(seed: int, loop: bool) -> Iterator[Frame]:
    """Fashion-MNIST TEST split only (never train/calibration: the reported figures use it)."""
    from enachi_ros.models.data import load_split

    test = load_split("test")
    n = len(test)
    order = np.arange(n) if seed == 0 else np.random.default_rng(seed).permutation(n)
    while True:
        for i in order:
            yield test.images[i], int(test.labels[i]), int(test.indices[i])
        if not loop:
            return


def labelled_camera_frames(seed: int, loop: bool) -> Iterator[Frame]:
    """The labelled camera frames (``models.frames``), TEST split only, with their labels."""
    from enachi_ros.models.frames import SPLIT_SIZES, frame

    n = SPLIT_SIZES["test"]
    order = np.arange(n) if seed == 0 else np.random.default_rng(seed).permutation(n)
    while True:
        for i in order:
            f = frame("test", int(i))
            yield f.image, f.label, int(i)
        if not loop:
            return


def folder_frames(uri: str, loop: bool) -> Iterator[Frame]:
    """Image files of a folder in name order (a missing/empty folder fails at once)."""
    import cv2

    folder = Path(uri)
    if not uri or not folder.is_dir():
        raise FileNotFoundError(f"source_uri: image folder {uri!r} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"source_uri: no image files {IMAGE_SUFFIXES} in folder {uri!r}")

    def frames() -> Iterator[Frame]:  # checks above run now, reading runs lazily
        while True:
            for i, path in enumerate(files):
                img = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if img is None:
                    continue  # unreadable file: skip, it is not a captured frame
                yield cv2.cvtColor(img, cv2.COLOR_BGR2RGB), -1, i
            if not loop:
                return

    return frames()


def opencv_frames(uri: str, device: bool, loop: bool) -> Iterator[Frame]:
    """A video file or device through OpenCV (opened now, so a bad uri fails at once)."""
    import cv2

    if device:
        try:
            target: int | str = int(uri or "0")
        except ValueError as exc:
            raise ValueError(
                f"source_uri: expected a device index for source=device, got {uri!r}") from exc
    else:
        if not uri or not Path(uri).is_file():
            raise FileNotFoundError(f"source_uri: video file {uri!r} does not exist")
        target = uri
    cap = cv2.VideoCapture(target)
    if not cap.isOpened():
        kind = "device" if device else "video"
        raise FileNotFoundError(f"source_uri: cannot open {kind} {uri!r}")
    return _read_capture(cap, device, loop)


def _read_capture(cap: Any, device: bool, loop: bool) -> Iterator[Frame]:
    import cv2

    n = 0
    try:
        while True:
            ok, img = cap.read()
            if not ok:
                if device or not loop:
                    return
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, img = cap.read()
                if not ok:
                    return
            yield cv2.cvtColor(img, cv2.COLOR_BGR2RGB), -1, n
            n += 1
    finally:
        cap.release()


def open_source(values: dict[str, Any]) -> Iterator[Frame] | None:
    """The frames of ``values['source']`` (None for ``topic``: frames arrive by callback)."""
    source, uri, loop = values["source"], values["source_uri"], values["loop"]
    if source == "synthetic":
        return synthetic_frames(values["width"], values["height"])
    if source == "fmnist":
        return fmnist_frames(values["seed"], loop)
    if source == "frames":
        return labelled_camera_frames(values["seed"], loop)
    if source == "folder":
        return folder_frames(uri, loop)
    if source in ("video", "device"):
        frames = opencv_frames(uri, source == "device", loop)
        first = next(frames, None)  # open now: a bad uri fails at start-up, not on the first tick
        if first is None:
            raise FileNotFoundError(f"source_uri: {source} {uri!r} delivered no frame")
        return _prepend(first, frames)
    if not uri:
        raise ParameterError("source_uri: source=topic needs the external image topic name")
    return None


def _prepend(first: Frame, rest: Iterator[Frame]) -> Iterator[Frame]:
    yield first
    yield from rest


# ----------------------------------------------------------------------------- the node
class CameraNode(ManagedNode):
    """Captures at ``frame_rate`` (or as frames arrive on ``source_uri``) while active."""

    PARAMS = PARAMS

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("camera", **kwargs)
        self.frames_captured = 0

    def configure_node(self) -> None:
        v = self.p
        self.frame_id = f"{v['robot_id'].strip('/')}/camera_optical_frame"
        self.frames = open_source(v)
        self._done = False
        self.image_pub = self.create_publisher(Image, topics.IMAGE, qos.camera_qos(v["qos_depth"]))
        self.truth_pub = self.create_publisher(GroundTruth, topics.GROUND_TRUTH,
                                               qos.capture_record_qos())
        if self.frames is None:
            self.create_subscription(Image, v["source_uri"], self._on_external,
                                     qos.camera_qos(v["qos_depth"]))

    def activate_node(self) -> None:
        v = self.p
        if self.frames is not None:
            # Capture starts after a phase (the first frame one period later): cameras activated
            # together (a lifecycle manager activates a fleet in one round) would otherwise
            # capture in lockstep and hit the edge at the same instant, which free-running
            # cameras on different robots do not. Measured in the demo: in lockstep, latency
            # +20 ms and 37% early stops instead of 45-47%.
            period = 1.0 / v["frame_rate"]
            phase = v["phase_s"] if v["phase_s"] >= 0 else random.uniform(0.0, period)
            self.capture = self.create_timer(period, self._on_timer)
            self.capture.cancel()
            now = time.monotonic()
            self._start_at, self._consumer_deadline = now + phase, now + CONSUMER_WAIT_S
            self.starter = self.create_timer(0.01, self._start_capture)
        self.get_logger().info(
            f"camera: source={v['source']} uri={v['source_uri']!r} {v['width']}x{v['height']} "
            f"{v['encoding']} @ {v['frame_rate']} Hz, max_frames={v['max_frames']}")

    def _start_capture(self) -> None:
        """Start the capture clock once the phase has passed and the image has a consumer
        matched (its BEST_EFFORT frames are not stored for late joiners), or at the latest
        ``CONSUMER_WAIT_S`` after activation (a camera nobody listens to still captures)."""
        now = time.monotonic()
        if now < self._start_at or (self.image_pub.get_subscription_count() < 1
                                     and now < self._consumer_deadline):
            return
        self.starter.cancel()
        self.capture.reset()

    def cleanup_node(self) -> None:
        self.frames = None

    def _may_capture(self) -> bool:
        limit = self.p["max_frames"]
        if not self._done and limit and self.frames_captured >= limit:
            self._finish(f"max_frames={limit} reached")
        return not self._done

    def _finish(self, why: str) -> None:
        if not self._done:
            self._done = True
            self.get_logger().info(
                f"camera: capture finished ({why}), {self.frames_captured} frames")

    # callbacks ----------------------------------------------------------------------------
    def _on_timer(self) -> None:
        if not self._may_capture():
            return
        item = next(self.frames, None)
        if item is None:
            self._finish("source exhausted (loop=false)")
            return
        frame, label, index = item
        self._publish(frame, label, index, self.get_clock().now().to_msg())

    def _on_external(self, msg: Image) -> None:
        if not self._may_capture():
            return
        try:
            frame = imgmsg_to_cv2(msg, self.p["encoding"])
        except ValueError as exc:
            self.get_logger().warning(f"camera: dropped external image: {exc}",
                                      throttle_duration_sec=5.0)
            return
        stamp = msg.header.stamp
        if Time.from_msg(stamp).nanoseconds == 0:
            stamp = self.get_clock().now().to_msg()
        self._publish(frame, -1, self.frames_captured, stamp)

    def _publish(self, frame: np.ndarray, label: int, index: int, stamp: Any) -> None:
        v = self.p
        out = convert(frame, v["width"], v["height"], v["encoding"])
        truth = GroundTruth()
        truth.header.stamp = stamp
        truth.header.frame_id = self.frame_id
        truth.label = label
        truth.sample_index = index
        self.truth_pub.publish(truth)  # first: a consumer has the label when the image lands
        self.image_pub.publish(
            cv2_to_imgmsg(out, v["encoding"], Header(stamp=stamp, frame_id=self.frame_id)))
        self.frames_captured += 1


NODE_CLASS = CameraNode


def main(args: list[str] | None = None) -> None:
    spin_node(CameraNode, args)


if __name__ == "__main__":
    main()
