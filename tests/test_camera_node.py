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
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from ros_env import isolated_ros_env
from sensor_msgs.msg import Image

from enachi_ros.nodes import camera
from enachi_ros.ros import qos, topics
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
        proc.send_signal(2)
        try:
            out, _ = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
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
