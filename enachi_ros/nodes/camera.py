"""Camera node: the robot's frame source, publishing ``camera/image`` (and its capture record).

Sources (parameter ``source``): ``synthetic`` (a moving test pattern, runnable anywhere, like
image_tools/cam2image), ``folder`` (image files), ``video`` (a file through OpenCV), ``device``
(a V4L2 index through OpenCV), ``fmnist`` (Fashion-MNIST TEST-split replay with labels),
``frames`` (the labelled 160x160 camera frames of ``models.frames``, TEST split, with labels) and
``topic`` (an external sensor_msgs/Image topic, e.g. a Gazebo camera, resized and republished
with its original stamp).

The ``topic`` source accepts the colour encodings ``rgb8``, ``bgr8``, ``rgba8``, ``bgra8``,
``mono8``, ``mono16`` (and the 16-bit colour ones), converted to the camera's own ``encoding`` and
size (16-bit pixels scaled by 255/65535, as cv_bridge does). Anyone on the domain can publish
anything there, so every image is checked first (``ros.images.check_image_msg``: encoding,
width/height 1..8192, step, data length, size; ``external_stamp_is_set``: the stamp) and a bad
one is rejected, counted per
field in ``self.rejects`` (the rate-limited log line, ``/diagnostics``, the run summary) and
never captured: a 0x0 image once killed the robot's process. The subscription follows the
publishers' reliability (``ros.adaptive_qos``): RELIABLE when all of them offer RELIABLE, so the
fragments of large frames are repaired, BEST_EFFORT otherwise; frames a best-effort
subscription misses are counted (``message_lost``) and reported on ``/diagnostics``.

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
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from enachi_ros.ros import qos, topics
from enachi_ros.ros.adaptive_qos import (
    RELIABILITY_CHOICES,
    AdaptiveSubscription,
    reliability_name,
)
from enachi_ros.ros.diagnostics import OK, WARN, Health
from enachi_ros.ros.images import COLOR_ENCODINGS, cv2_to_imgmsg, imgmsg_to_cv2
from enachi_ros.ros.lifecycle import ManagedNode
from enachi_ros.ros.params import Param, ParameterError
from enachi_ros.ros.rejects import InputError
from enachi_ros.ros.spin import spin_node

SOURCES = ("synthetic", "folder", "video", "device", "fmnist", "frames", "topic")
ENCODINGS = ("mono8", "rgb8")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".tif", ".tiff", ".webp")

# Longest wait after activation for a consumer of the images before capture starts anyway (s).
CONSUMER_WAIT_S = 2.0
# topic source: how often the publishers' QoS offers are re-read (s), and how often at most a
# line reports frames lost in transport (s).
ADAPT_PERIOD_S = 0.25
LOST_LOG_PERIOD_S = 5.0
IMAGE_TYPE = "sensor_msgs/msg/Image"

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
    Param("qos_depth", 5, "KEEP_LAST depth of camera/image (and of the source_uri "
          "subscription)", low=1, high=1000, read_only=True),
    Param("source_reliability", "adaptive", "reliability of the source_uri subscription: "
          "adaptive = RELIABLE when every publisher offers it (lost fragments of large frames "
          "are re-sent), else BEST_EFFORT", choices=tuple(RELIABILITY_CHOICES), read_only=True),
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


def external_frame(msg: Image, encoding: str) -> np.ndarray:
    """The pixels of a received image in ``encoding`` (mono8 or rgb8), not yet resized.

    InputError names the bad field: an encoding without colour information (generic ``8UC3``,
    ``yuv422``, ``bayer_*``...), or any field ``ros.images.check_image_msg`` refuses."""
    if msg.encoding not in COLOR_ENCODINGS:
        raise InputError("encoding", msg.encoding, f"one of {', '.join(COLOR_ENCODINGS)}")
    return imgmsg_to_cv2(msg, encoding)


def external_stamp_is_set(stamp: Any) -> bool:
    """Whether a received stamp is set (all zero: unset, the camera stamps the frame itself);
    InputError for a negative time or nanoseconds of a second or more, which rclpy's Time
    refuses with an exception."""
    sec, nanosec = int(stamp.sec), int(stamp.nanosec)
    if sec < 0 or nanosec >= 1_000_000_000:
        raise InputError("header.stamp", f"{sec} s {nanosec} ns",
                         "a non-negative time, nanosec below 1e9")
    return sec != 0 or nanosec != 0


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
        self.external: AdaptiveSubscription | None = None

    def configure_node(self) -> None:
        v = self.p
        self.frame_id = f"{v['robot_id'].strip('/')}/camera_optical_frame"
        self.frames = open_source(v)
        self._last_capture_ns = -1
        self._done = False
        self.image_pub = self.create_publisher(Image, topics.IMAGE, qos.camera_qos(v["qos_depth"]))
        self.truth_pub = self.create_publisher(GroundTruth, topics.GROUND_TRUTH,
                                               qos.capture_record_qos())
        if self.frames is None:
            self._check_source_topic(v["source_uri"])
            self.external = AdaptiveSubscription(
                self, Image, v["source_uri"], self._on_external, v["qos_depth"], IMAGE_TYPE,
                fixed=RELIABILITY_CHOICES[v["source_reliability"]])
            self._lost_logged, self._lost_reported = 0, 0
            self._lost_log_at = -LOST_LOG_PERIOD_S

    def _check_source_topic(self, uri: str) -> None:
        try:
            resolved = self.resolve_topic_name(uri)
        except Exception as exc:  # rclpy raises its own InvalidTopicNameException and kin
            raise ParameterError(f"source_uri: expected a valid ROS topic name for source=topic, "
                                 f"got {uri!r} ({exc})") from exc
        if resolved == self.resolve_topic_name(topics.IMAGE):
            raise ParameterError(f"source_uri: expected a topic other than the camera's own "
                                 f"output {resolved}, got {uri!r}")

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
        else:  # not update() here: a subscription made in a transition would be destroyed with
            # the transition's timers at deactivation (ManagedNode tracks I/O per transition)
            self.create_timer(ADAPT_PERIOD_S, self._on_adapt_timer)
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
        if self.external is not None:
            self.external.destroy()
            self.external = None

    def _on_adapt_timer(self) -> None:
        """Follow the publishers' QoS; say (rate-limited) when frames were lost in transport."""
        ext = self.external
        ext.update()
        now = time.monotonic()
        if ext.lost > self._lost_logged and now - self._lost_log_at >= LOST_LOG_PERIOD_S:
            self.get_logger().warning(
                f"{ext.topic}: {ext.lost - self._lost_logged} frame(s) lost in transport "
                f"({ext.lost} in all) on a {reliability_name(ext.reliability)} subscription; "
                "large best-effort frames need the publisher's DDS settings (README, External "
                "cameras)")
            self._lost_logged, self._lost_log_at = ext.lost, now

    def health(self) -> Health:
        """The external topic's state: publishers, the subscription's reliability, the frames
        lost in transport (WARN while that count grows) and publishers of another type."""
        ext = self.external
        if ext is None:
            return OK, "", {"frames_captured": self.frames_captured}
        values = {"source_topic": ext.topic, "publishers": ext.publisher_count(),
                  "subscription": reliability_name(ext.reliability),
                  "frames_captured": self.frames_captured,
                  "frames_lost_in_transport": ext.lost}
        new_losses, self._lost_reported = ext.lost - self._lost_reported, ext.lost
        if ext.other_types:
            return WARN, (f"{ext.topic} carries {', '.join(ext.other_types)}, expected "
                          f"{IMAGE_TYPE}"), values
        if new_losses > 0:
            return WARN, f"{new_losses} frame(s) of {ext.topic} lost in transport", values
        if not ext.publisher_count():
            return OK, f"no publisher on {ext.topic} yet", values
        return OK, "", values

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
        now = self.get_clock().now()
        if now.nanoseconds <= self._last_capture_ns:
            # on simulated time a timer that fell behind /clock fires again at the same instant:
            # a frame is its stamp, so one capture per instant
            return
        self._last_capture_ns = now.nanoseconds
        item = next(self.frames, None)
        if item is None:
            self._finish("source exhausted (loop=false)")
            return
        frame, label, index = item
        v = self.p
        out = convert(frame, v["width"], v["height"], v["encoding"])
        self._publish(out, label, index, now.to_msg())

    def _on_external(self, msg: Image) -> None:
        """An image of the external topic: checked, converted and captured, or rejected and
        counted (never an exception out of here: a foreign message must not stop the robot)."""
        if not self._may_capture():
            return
        v = self.p
        try:
            stamped = external_stamp_is_set(msg.header.stamp)
            out = convert(external_frame(msg, v["encoding"]), v["width"], v["height"],
                          v["encoding"])
        except InputError as exc:
            self.rejects.reject(self.external.topic, exc, "image")
            return
        except Exception as exc:  # e.g. cv2.error: counted like any other rejection
            error = InputError("image", f"{type(exc).__name__}: {exc}",
                               f"an image OpenCV converts to {v['width']}x{v['height']} "
                               f"{v['encoding']}")
            self.rejects.reject(self.external.topic, error, "image")
            return
        stamp = msg.header.stamp if stamped else self.get_clock().now().to_msg()
        self._publish(out, -1, self.frames_captured, stamp)

    def _publish(self, out: np.ndarray, label: int, index: int, stamp: Any) -> None:
        """Capture record first, then the image (already in the output size and encoding)."""
        v = self.p
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
