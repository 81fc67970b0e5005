"""The codec options live: the robot's head encodes the frame as JPEG or WebP at the decided
quality and cuts the bytes into packets; the edge's tail takes them in any order, decodes the
frame once every packet arrived and runs the whole model on it; malformed codec packets are
rejected per field, and a frame that is not complete at its window end is answered as dropped
(all or nothing). Real nodes in-process, the camera model (lite0_frames)."""

from __future__ import annotations

import functools
import random
import time

import numpy as np
import pytest
from enachi_interfaces.msg import FeaturePacket, SchedulerDecision, SchedulerDecisionArray
from rclpy.lifecycle import TransitionCallbackReturn
from ros_env import ros_context

from enachi_ros.core.artifact import default_artifact_dir
from enachi_ros.core.outcomes import DROPPED, EDGE_DEADLINE
from enachi_ros.models import codecs
from enachi_ros.nodes.head import HeadNode
from enachi_ros.nodes.tail import TailNode
from enachi_ros.ros import topics
from enachi_ros.ros.images import cv2_to_imgmsg

pytestmark = pytest.mark.skipif(
    not (default_artifact_dir("lite0_frames") / "traces.npz").is_file(),
    reason="the committed lite0_frames artifact is missing (enachi calibrate)")
OFFSET = 29  # this file's ROS domain offset


@pytest.fixture
def ros(monkeypatch):
    with ros_context(monkeypatch, OFFSET) as context:
        nodes = []

        def start(cls, **params):
            from rclpy.parameter import Parameter

            node = cls(context=context, parameter_overrides=[
                Parameter(k, value=v) for k, v in params.items()])
            assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS, \
                node.configure_error
            assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
            nodes.append(node)
            return node

        yield start
        for node in nodes:
            node.trigger_shutdown()
            node.destroy_node()


@functools.lru_cache(maxsize=1)
def frame() -> np.ndarray:
    """One labelled test frame, 160 x 160 RGB uint8 (made once: the first takes seconds)."""
    from enachi_ros.models.frames import batches

    images, _ = next(batches("test", range(1), batch_size=1))
    return images[0]


def encoded_task(head: HeadNode, option: str):
    """The EncodedTask the head hands off for one frame under a decision for ``option``."""
    handed = []
    head.pub_task.publish = handed.append
    head.edge_alive = True
    split = head.runtime.artifact.split(option).index
    image = cv2_to_imgmsg(frame(), "rgb8")  # before the decision: it goes stale in 1 s
    d = SchedulerDecision(robot_id="robot1", frame_index=1, policy="edge_jpeg",
                          model_name=head.runtime.name, split_index=split, bits=8,
                          bandwidth_hz=2.03125e6, reference_power_w=0.1, window_s=0.1,
                          deadline_s=0.5, slot_s=head.p["slot_s"], power_law="constant",
                          window_slots=20, channel_gain=1e-8, partial_ok=False)
    head._on_decisions(SchedulerDecisionArray(decisions=[d]))
    image.header.stamp = head.get_clock().now().to_msg()
    head._on_image(image)
    assert len(handed) == 1
    return handed[0]


@pytest.mark.parametrize("option", ["jpeg_q50", "webp_q20"])
def test_the_head_encodes_a_codec_frame_into_packets(ros, option) -> None:
    head = ros(HeadNode, model="lite0_frames", robot_id="robot1", deadline_s=0.5)
    task = encoded_task(head, option)
    data = b"".join(bytes(p.data) for p in task.packets)
    fmt, quality = head.runtime.codec(head.runtime.artifact.split(option).index)
    assert data == codecs.encode(frame(), fmt, quality)  # the frame itself, encoded here
    assert all(len(p.data) <= 1024 and list(p.shape) == [3, 160, 160] and not p.channels
               for p in task.packets)
    assert [p.packet_index for p in task.packets] == list(range(len(task.packets)))
    # one core's energy over the robot's encode time
    assert task.compute_energy_j == pytest.approx(
        head.p["cpu_core_power_w"] * task.robot_compute_s, rel=1e-5)
    assert task.robot_compute_s == pytest.approx(task.head_cpu_s * head.p["cpu_slowdown"],
                                                 rel=1e-5)


def run_tail(tail: TailNode, seconds: float = 10.0) -> list:
    results = []
    tail.pub_result["robot1"].publish = results.append
    end = time.monotonic() + seconds
    while time.monotonic() < end and not results:
        tail._step()
        time.sleep(0.005)
    return results


def test_the_tail_decodes_a_complete_frame_in_any_order_and_runs_the_whole_model(ros) -> None:
    head = ros(HeadNode, model="lite0_frames", robot_id="robot1", deadline_s=0.5)
    tail = ros(TailNode, model="lite0_frames", robot_ids=["robot1"])
    task = encoded_task(head, "jpeg_q50")
    packets = list(task.packets)
    random.Random(1).shuffle(packets)
    for p in [*packets, packets[0]]:  # a duplicate changes nothing
        tail._on_packet("robot1", p)
    results = run_tail(tail)
    assert len(results) == 1, results
    r = results[0]
    assert r.outcome == EDGE_DEADLINE and r.packets_received == len(packets)
    decoded = head.runtime.decode(b"".join(bytes(p.data) for p in task.packets))
    expected = int(np.argmax(head.runtime.full(decoded)))
    assert r.class_id == expected and r.split_index == task.decision.split_index
    assert r.bytes_received == sum(len(p.data) for p in task.packets)


def test_an_incomplete_codec_frame_gets_no_answer_and_forged_packets_are_counted(ros) -> None:
    head = ros(HeadNode, model="lite0_frames", robot_id="robot1", deadline_s=0.5)
    tail = ros(TailNode, model="lite0_frames", robot_ids=["robot1"])
    task = encoded_task(head, "jpeg_q95")
    topic = tail.resolve_topic_name(topics.robot_topic("robot1", topics.FEATURES),
                                    only_expand=True)
    forged = []
    for field, value in (("channels", [1, 2]), ("data", bytes(2000)),
                         ("packet_count", 1000)):
        m = FeaturePacket()
        m.header, m.robot_id, m.task_id = task.packets[0].header, "robot1", 999
        m.model_name, m.split_index = "lite0_frames", task.decision.split_index
        m.shape, m.packet_count, m.packet_index, m.bits = [3, 160, 160], 2, 0, 8
        m.data, m.deadline = bytes(100), task.packets[0].deadline
        setattr(m, field, value)
        forged.append(m)
    for m in forged:
        tail._on_packet("robot1", m)
    counted = tail.rejects.by_topic()[topic]
    assert counted == {"channels": 1, "data": 1, "packet_count": 1}, counted
    for p in task.packets[:-1]:  # the last packet never arrives
        tail._on_packet("robot1", p)
    assert run_tail(tail, 0.3) == []  # nothing to run on: no partial codec answer
    for t in tail.tasks.values():
        t.deadline_s = tail.now()  # its window ends
    results = run_tail(tail)
    assert len(results) == 1 and results[0].outcome == DROPPED and results[0].class_id == -1
    assert "incomplete" in results[0].reason
