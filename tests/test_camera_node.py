"""Camera node: pixel helpers, sources, parameter refusal, and a real short run over DDS."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rclpy
from enachi_interfaces.msg import GroundTruth
from hypothesis import given, settings
from hypothesis import strategies as st
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from ros_env import isolated_ros_env
from sensor_msgs.msg import Image
from test_ros_images import pixels, raw_msg

from enachi_ros.nodes import camera
from enachi_ros.ros import images, qos, topics
from enachi_ros.ros.params import ParameterError
from enachi_ros.ros.spin import build_errors
from enachi_ros.tools.lifecycle_client import LifecycleClient

OFFSET = 10  # this file's ROS domain offset (others use < 10)


def test_convert_resizes_and_changes_encoding() -> None:
    gray = np.arange(28 * 28, dtype=np.uint8).reshape(28, 28)
    rgb = camera.convert(gray, 56, 40, "rgb8")
    assert rgb.shape == (40, 56, 3) and rgb.dtype == np.uint8
    back = camera.convert(rgb, 28, 28, "mono8")
    assert back.shape == (28, 28)


def test_fmnist_replay_is_the_test_split_in_order() -> None:
    from enachi_ros.models.data import load_split

    test = load_split("test")
    frames = camera.fmnist_frames(seed=0, loop=False)
    for i in range(3):
        img, label, index = next(frames)
        assert index == i and label == int(test.labels[i])
        assert np.array_equal(img, test.images[i])
    shuffled = [next(camera.fmnist_frames(seed=7, loop=False))[2] for _ in range(2)]
    assert shuffled[0] == shuffled[1] != 0  # deterministic per seed


def test_missing_folder_and_video_name_source_uri(tmp_path: Path) -> None:
    base = {"loop": True, "width": 28, "height": 28, "seed": 0}
    for source in ("folder", "video"):
        with pytest.raises(FileNotFoundError, match="source_uri"):
            camera.open_source({**base, "source": source, "source_uri": str(tmp_path / "nope")})
    with pytest.raises(ParameterError, match="source_uri"):
        camera.open_source({**base, "source": "topic", "source_uri": ""})


def test_folder_source_reads_images(tmp_path: Path) -> None:
    import cv2

    for i in range(2):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((10, 12, 3), 40 * i, np.uint8))
    frames = camera.folder_frames(str(tmp_path), loop=False)
    assert [f[0].shape for f in frames] == [(10, 12, 3), (10, 12, 3)]


@pytest.fixture
def ros_context(monkeypatch: pytest.MonkeyPatch):
    env = isolated_ros_env(OFFSET)
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    monkeypatch.delenv("ROS_STATIC_PEERS", raising=False)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(env["ROS_DOMAIN_ID"]))
    yield context, env
    context.try_shutdown()


def test_bad_parameter_is_refused_with_its_name(ros_context) -> None:
    """A value outside a declared range is refused when declared (rclpy); every other bad value
    fails configure, which names it, and the node stays unconfigured."""
    context, _ = ros_context
    with pytest.raises(build_errors(), match="frame_rate"):
        camera.CameraNode(context=context, parameter_overrides=[Parameter("frame_rate",
                                                                          value=-1.0)])
    for name, value in [("source", "webcam"), ("encoding", "yuv"), ("robot_id", "a/b")]:
        node = camera.CameraNode(context=context,
                                 parameter_overrides=[Parameter(name, value=value)])
        try:
            assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
            assert name in node.configure_error and str(value) in node.configure_error
            assert node.state_label == "unconfigured"
        finally:
            node.destroy_node()


def _interrupt(proc: subprocess.Popen, timeout_s: float) -> str:
    """SIGINT the camera process and return its output (killed if it does not stop)."""
    proc.send_signal(2)
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def _run_camera(context: rclpy.Context, env: dict[str, str], params: dict[str, str],
                expect: int, timeout: float = 12.0) -> tuple[list[Image], list[GroundTruth], str]:
    """Start camera_node in a subprocess and drive it as a lifecycle manager does: configure,
    wait until this probe's subscriptions matched the camera's publishers, activate; collect its
    images and capture records until quiet."""
    node = rclpy.create_node("camera_probe", context=context)
    images: list[Image] = []
    truths: list[GroundTruth] = []
    subs = [node.create_subscription(Image, f"/probe/{topics.IMAGE}", images.append,
                                     qos.camera_qos(50)),
            node.create_subscription(GroundTruth, f"/probe/{topics.GROUND_TRUTH}", truths.append,
                                     qos.capture_record_qos())]
    args = [f"{k}:={v}" for k, v in params.items()]
    cmd = [sys.executable, "-m", "enachi_ros.nodes.camera", "--ros-args",
           "-r", "__ns:=/probe", *[x for a in args for x in ("-p", a)]]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    manager = LifecycleClient(node, executor)
    try:
        assert not manager.wait_for(["/probe/camera"], timeout)
        assert manager.change(["/probe/camera"], "configure", timeout) == {"/probe/camera": True}
        end = time.monotonic() + 5.0
        while time.monotonic() < end and min(s.get_publisher_count() for s in subs) < 1:
            executor.spin_once(timeout_sec=0.05)
        assert manager.change(["/probe/camera"], "activate", timeout) == {"/probe/camera": True}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(images) < expect:
            executor.spin_once(timeout_sec=0.05)
        quiet = time.monotonic() + 0.6  # anything beyond max_frames would show up here
        while time.monotonic() < quiet:
            executor.spin_once(timeout_sec=0.05)
    finally:
        out = _interrupt(proc, 5)
        executor.shutdown()
        node.destroy_node()
    assert proc.returncode == 0, out  # a clean stop on SIGINT
    return images, truths, out


def test_synthetic_camera_over_dds_honours_max_frames(ros_context) -> None:
    context, env = ros_context
    images, truths, out = _run_camera(context, env, {
        "source": "synthetic", "frame_rate": "30.0", "max_frames": "6", "width": "32",
        "height": "24", "encoding": "rgb8", "robot_id": "probe"}, expect=6)
    assert len(truths) == 6, out  # RELIABLE capture record: exact
    assert len(images) == 6, out  # loopback best effort: nothing lost at this rate
    assert {(m.width, m.height, m.encoding, m.header.frame_id) for m in images} == {
        (32, 24, "rgb8", "probe/camera_optical_frame")}
    assert [m.header.stamp for m in images] == [t.header.stamp for t in truths]
    assert {t.label for t in truths} == {-1}
    assert "max_frames=6 reached" in out


def test_fmnist_camera_over_dds_sends_labels_with_image_stamps(ros_context) -> None:
    from enachi_ros.models.data import load_split

    context, env = ros_context
    images, truths, out = _run_camera(context, env, {
        "source": "fmnist", "frame_rate": "30.0", "max_frames": "4"}, expect=4)
    labels = load_split("test").labels
    assert [t.sample_index for t in truths] == [0, 1, 2, 3], out
    assert [t.label for t in truths] == [int(x) for x in labels[:4]]
    assert [m.header.stamp for m in images] == [t.header.stamp for t in truths[: len(images)]]
    assert len(images) == 4 and images[0].encoding == "mono8" and images[0].width == 28
    assert images[0].header.frame_id == "robot1/camera_optical_frame"


def test_camera_node_reports_a_missing_folder_clearly() -> None:
    env = isolated_ros_env(OFFSET + 1)
    proc = subprocess.run(
        [sys.executable, "-m", "enachi_ros.nodes.camera", "--ros-args", "-p", "source:=folder",
         "-p", "source_uri:=/nonexistent/frames", "-p", "autostart:=true"],
        check=False, env=env, capture_output=True, text=True, timeout=20)
    assert proc.returncode != 0
    assert "source_uri" in proc.stderr and "/nonexistent/frames" in proc.stderr
    assert "Traceback" not in proc.stderr


# ----------------------------------------------------------------------------- external topics
SOURCE_ENCODINGS = ("rgb8", "bgr8", "rgba8", "bgra8", "mono8", "mono16")


def reference_rgb(encoding: str, arr: np.ndarray) -> np.ndarray:
    """What the camera should see of ``arr`` (pixels in ``encoding``) as rgb8, written out by
    hand: channel order, alpha dropped, gray replicated, 16 bits scaled by 255/65535."""
    if encoding == "mono16":
        arr = np.rint(arr.astype(np.float64) * (255.0 / 65535.0)).astype(np.uint8)
    if arr.ndim == 2:
        return np.repeat(arr[:, :, None], 3, axis=2)
    return arr[:, :, 2::-1] if encoding.startswith("bgr") else arr[:, :, :3]


@settings(max_examples=80, deadline=None)
@given(encoding=st.sampled_from(SOURCE_ENCODINGS), height=st.integers(1, 12),
       width=st.integers(1, 12), seed=st.integers(0, 2**32 - 1), pad=st.integers(0, 7),
       big=st.booleans(), out=st.sampled_from(camera.ENCODINGS))
def test_every_source_encoding_becomes_the_cameras_encoding(
        encoding: str, height: int, width: int, seed: int, pad: int, big: bool, out: str) -> None:
    """rgb8, bgr8, rgba8, bgra8, mono8 and mono16 (padded rows, either byte order) arrive as the
    camera's rgb8 or mono8, then at its output size."""
    import cv2

    arr = pixels(encoding, height, width, seed)
    frame = camera.external_frame(raw_msg(arr, encoding, pad=pad, big=big), out)
    rgb = reference_rgb(encoding, arr)
    if out == "rgb8":
        assert frame.dtype == np.uint8 and np.array_equal(frame, rgb)
    elif encoding in ("mono8", "mono16"):
        assert np.array_equal(frame, rgb[:, :, 0])
    else:  # OpenCV's weights, whatever the channel order was
        assert np.array_equal(frame, cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY))
    resized = camera.convert(frame, 7, 5, out)
    assert resized.shape == ((5, 7, 3) if out == "rgb8" else (5, 7))


def test_mono16_uses_the_full_16_bit_range() -> None:
    """cv_bridge's scaling: 65535 -> 255, 257 -> 1, 128 -> 0 (rounded), never a wrap-around."""
    arr = np.array([[0, 128, 129, 257, 32896, 65535]], np.uint16)
    frame = camera.external_frame(raw_msg(arr, "mono16"), "mono8")
    assert frame.tolist() == [[0, 0, 1, 1, 128, 255]]


def bad_images() -> list[tuple[str, Image]]:
    """One degenerate image per refused field (no big allocation: sizes lie about the data)."""
    ok = raw_msg(pixels("rgb8", 4, 6, 3), "rgb8")

    def changed(**fields) -> Image:
        msg = raw_msg(pixels("rgb8", 4, 6, 3), "rgb8")
        for key, value in fields.items():
            setattr(msg, key, value)
        return msg

    stamp = changed()
    stamp.header.stamp.sec = -1
    return [
        ("height", Image(height=0, width=0, encoding="rgb8", step=0, data=b"")),  # once fatal
        ("height", changed(height=0)),
        ("width", changed(width=images.MAX_SIDE + 1)),
        ("step", changed(step=ok.step - 1)),
        ("step", Image(height=8192, width=8192, encoding="rgba16", step=8192 * 8)),  # 512 MiB
        ("data", changed(data=bytes(ok.data)[:-1])),
        ("data", changed(data=bytes(ok.data) + b"\0")),
        ("encoding", changed(encoding="8UC3")),
        ("encoding", changed(encoding="yuv422")),
        ("header.stamp", stamp),
    ]


def test_external_images_are_checked_counted_and_converted(ros_context) -> None:
    """In-process: every degenerate image is rejected and counted under its field, nothing is
    captured for it and nothing is raised; every supported encoding is captured as the
    camera's encoding and size, with the source's stamp (or the camera's when unset)."""
    context, _ = ros_context
    node = camera.CameraNode(context=context, parameter_overrides=[
        Parameter("source", value="topic"), Parameter("source_uri", value="/ext/image_raw"),
        Parameter("width", value=32), Parameter("height", value=24),
        Parameter("encoding", value="rgb8")])
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS, node.configure_error
        assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
        sent: list[Image] = []
        node.image_pub.publish = sent.append
        expected: dict[str, int] = {}
        for field, msg in bad_images():
            node._on_external(msg)
            expected[field] = expected.get(field, 0) + 1
        assert node.rejects.by_topic() == {"/ext/image_raw": expected}
        assert node.frames_captured == 0 and not sent
        for i, encoding in enumerate(SOURCE_ENCODINGS):
            msg = raw_msg(pixels(encoding, 48, 64, i), encoding, pad=i, big=i % 2 == 1)
            msg.header.stamp.sec = 100 + i
            node._on_external(msg)
        unstamped = raw_msg(pixels("mono8", 4, 4, 9), "mono8")
        node._on_external(unstamped)
        assert node.frames_captured == len(SOURCE_ENCODINGS) + 1
        assert {(m.width, m.height, m.encoding) for m in sent} == {(32, 24, "rgb8")}
        assert [m.header.stamp.sec for m in sent[:-1]] == [100 + i for i in range(6)]
        assert sent[-1].header.stamp.sec > 0  # stamped by the camera
        _, _, values = node.health()
        assert values["source_topic"] == "/ext/image_raw" and values["frames_captured"] == 7
        assert values["subscription"] == "best_effort"  # no publisher yet: matches any
    finally:
        node.trigger_shutdown()
        node.destroy_node()


def test_source_topic_must_be_another_topic(ros_context) -> None:
    context, _ = ros_context
    for uri in ("camera/image", "bad topic name"):
        node = camera.CameraNode(context=context, parameter_overrides=[
            Parameter("source", value="topic"), Parameter("source_uri", value=uri)])
        try:
            assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
            assert "source_uri" in node.configure_error and uri in node.configure_error
        finally:
            node.destroy_node()


def _spin_until(executor, condition, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        executor.spin_once(timeout_sec=0.05)
    return condition()


def _camera_readers(node, topic: str) -> set[str]:
    """The reliabilities of the camera's readers of ``topic``, as the ROS graph shows them
    (two while a re-created subscription overlaps the old one)."""
    from rclpy.qos import ReliabilityPolicy

    return {"reliable" if info.qos_profile.reliability == ReliabilityPolicy.RELIABLE
            else "best_effort"
            for info in node.get_subscriptions_info_by_topic(topic) if info.node_name == "camera"}


def test_camera_process_survives_bad_images_and_follows_the_publishers_qos() -> None:
    """Over DDS: a camera process subscribed to an external topic gets a 0x0 image (which once
    killed the robot's process), a short step and a generic encoding among good frames from a
    RELIABLE publisher: it captures the good ones, reports the rejects per field on
    /diagnostics, and subscribes RELIABLE; when a BEST_EFFORT publisher joins it re-subscribes
    BEST_EFFORT (matching both) and captures that publisher's frames too."""
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

    from enachi_ros.ros.diagnostics import rejects_of

    env = isolated_ros_env(OFFSET + 3)
    topic = "/probe_ext/image_raw"
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(env["ROS_DOMAIN_ID"]))
    node = rclpy.create_node("external_probe", context=context)
    truths: list[GroundTruth] = []
    rejects: dict[str, dict[str, int]] = {}

    def on_diagnostics(msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name == "/probe/camera":
                rejects.update(rejects_of(status))

    node.create_subscription(GroundTruth, f"/probe/{topics.GROUND_TRUTH}", truths.append,
                             qos.capture_record_qos())
    node.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 50)
    reliable = node.create_publisher(Image, topic, QoSProfile(
        depth=10, reliability=ReliabilityPolicy.RELIABLE))
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    proc = subprocess.Popen(
        [sys.executable, "-m", "enachi_ros.nodes.camera", "--ros-args", "-r", "__ns:=/probe",
         "-p", "source:=topic", "-p", f"source_uri:={topic}", "-p", "autostart:=true",
         "-p", "width:=32", "-p", "height:=24", "-p", "encoding:=rgb8"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert _spin_until(executor, lambda: _camera_readers(node, topic) == {"reliable"},
                           20.0), "the camera did not subscribe RELIABLE to a RELIABLE publisher"
        assert _spin_until(executor, lambda: reliable.get_subscription_count() == 1, 5.0)
        _spin_until(executor, lambda: False, 0.3)  # the camera's side of the match settles
        good = [raw_msg(pixels(e, 48, 64, i), e) for i, e in enumerate(("rgb8", "bgr8", "mono16"))]
        bad = [Image(height=0, width=0, encoding="rgb8", step=0, data=b""),
               raw_msg(pixels("rgb8", 4, 6, 0), "rgb8"), cv2_to_imgmsg_generic()]
        bad[1].step = 17
        for i, msg in enumerate([bad[0], good[0], bad[1], good[1], bad[2], good[2]]):
            msg.header.stamp.sec = 10 + i
            reliable.publish(msg)
            executor.spin_once(timeout_sec=0.05)
        assert _spin_until(executor, lambda: len(truths) >= 3, 10.0), proc.poll()
        assert _spin_until(executor, lambda: sum(rejects.get(topic, {}).values()) >= 3, 5.0)
        assert rejects[topic] == {"height": 1, "step": 1, "encoding": 1}
        assert sorted(t.header.stamp.sec for t in truths) == [11, 13, 15]

        best_effort = node.create_publisher(Image, topic, qos_profile_sensor_data)
        assert _spin_until(executor, lambda: _camera_readers(node, topic) == {"best_effort"},
                           10.0), "the camera did not follow a BEST_EFFORT publisher"
        assert _spin_until(executor, lambda: best_effort.get_subscription_count() > 0, 5.0)
        sec = 100

        def send_one() -> bool:  # best effort: resend until one frame made it
            nonlocal sec
            if len(truths) < 4:
                sec += 1
                msg = raw_msg(pixels("bgra8", 8, 8, sec), "bgra8")
                msg.header.stamp.sec = sec
                best_effort.publish(msg)
            return len(truths) >= 4

        assert _spin_until(executor, send_one, 10.0)
        assert proc.poll() is None  # alive after every bad image
    finally:
        out = _interrupt(proc, 10)
        executor.shutdown()
        node.destroy_node()
        context.try_shutdown()
    assert proc.returncode == 0, out
    assert "Traceback" not in out, out


def cv2_to_imgmsg_generic() -> Image:
    """A well-formed 8UC3 image: consistent fields, but no colour order to convert from."""
    from enachi_ros.ros.images import cv2_to_imgmsg

    return cv2_to_imgmsg(np.zeros((4, 6, 3), np.uint8))
