"""Single hostile or malformed messages, fed to the real managed nodes' callbacks in-process: each
is rejected and counted per topic and field, the node keeps its state and keeps running. Every
case here crashed or poisoned a fleet before (issue 11): a packet of another shape or of a
1e9-row tensor at the edge, a result with class 99, decisions with a bogus power law, NaN or
absurd fields, a 3e38 J energy report, forged task ids ahead of the robot's counter."""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import pytest
from enachi_interfaces.msg import (
    ChannelReport,
    EncodedTask,
    EnergyReport,
    FeaturePacket,
    InferenceResult,
    SchedulerDecision,
    SchedulerDecisionArray,
)
from rclpy.lifecycle import TransitionCallbackReturn
from ros_env import ros_context

from enachi_ros.core.outcomes import DROPPED, EDGE_DEADLINE
from enachi_ros.nodes.head import HeadNode
from enachi_ros.nodes.scheduler import SchedulerNode
from enachi_ros.nodes.tail import TailNode
from enachi_ros.nodes.transmitter import TransmitterNode
from enachi_ros.ros import topics
from enachi_ros.ros.images import cv2_to_imgmsg
from enachi_ros.ros.messages import to_time

OFFSET = 17  # this file's ROS domain offset


@pytest.fixture
def ros(monkeypatch):
    with ros_context(monkeypatch, OFFSET) as context:
        yield from _nodes_in(context)


def _nodes_in(context):
    """A starter of configured and active nodes in ``context``, shut down afterwards."""
    nodes = []

    def start(cls, **params):
        from rclpy.parameter import Parameter

        node = cls(context=context, parameter_overrides=[Parameter(k, value=v)
                                                         for k, v in params.items()])
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS, node.configure_error
        assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        node.trigger_shutdown()
        node.destroy_node()


def decision(head: HeadNode, **fields) -> SchedulerDecisionArray:
    d = SchedulerDecision(robot_id="robot1", frame_index=1, policy="enachi",
                          model_name=head.runtime.name, split_index=1, bits=8,
                          bandwidth_hz=1e5, reference_power_w=0.1, window_s=0.05,
                          deadline_s=0.1, slot_s=head.p["slot_s"], entropy_threshold=0.2,
                          power_law="tracking", window_slots=10, channel_gain=1e-8)
    for k, v in fields.items():
        setattr(d, k, v)
    return SchedulerDecisionArray(decisions=[d])


def rejected(node, topic: str) -> dict[str, int]:
    return node.rejects.by_topic().get(node.resolve_topic_name(topic, only_expand=True), {})


@pytest.mark.parametrize(("field", "value"), [
    ("power_law", "bogus"), ("bandwidth_hz", math.nan), ("deadline_s", math.nan),
    ("deadline_s", 1e9), ("bits", 3), ("split_index", 999), ("reference_power_w", 1e6),
    ("window_slots", 10**9), ("model_name", "other_model"), ("entropy_threshold", math.inf),
    ("slot_s", 1e-6)])  # 1 us slots: 6e7 of them would fit a 60 s deadline
def test_an_invalid_decision_is_ignored_and_the_last_valid_one_kept(ros, field, value) -> None:
    head = ros(HeadNode)
    head._on_decisions(decision(head))
    valid = head.decision
    assert valid is not None
    head._on_decisions(decision(head, **{field: value}))
    assert head.decision is valid
    assert rejected(head, topics.DECISIONS) == {field: 1}


def test_a_decision_at_p_max_is_valid_though_its_float32_exceeds_p_max(ros) -> None:
    """0.2 W as float32 is 0.20000000298 W: a baseline sending at p_max must not be refused
    (every decision of the fmnist fleet was, once p_max went from 1 W to 0.2 W)."""
    head = ros(HeadNode, p_max_w=0.2)
    head._on_decisions(decision(head, reference_power_w=0.2))
    assert head.decision is not None and not rejected(head, topics.DECISIONS)


def sent_task(head: HeadNode):
    """One real task through the head's edge path (the EncodedTask it hands off)."""
    handed = []
    head.pub_task.publish = handed.append
    head.edge_alive = True
    head._on_decisions(decision(head))
    image = cv2_to_imgmsg(np.full((28, 28), 128, np.uint8), "mono8")
    image.header.stamp = head.get_clock().now().to_msg()
    head._on_image(image)
    assert len(handed) == 1
    return handed[0]


def result_for(task: EncodedTask, **fields) -> InferenceResult:
    r = InferenceResult(robot_id="robot1", task_id=task.task_id, outcome=EDGE_DEADLINE,
                        class_id=3, confidence=0.9, entropy=0.1, split_index=1,
                        packets_received=len(task.packets))
    r.capture_stamp = task.header.stamp
    for k, v in fields.items():
        setattr(r, k, v)
    return r


@pytest.mark.parametrize(("field", "value"), [
    ("class_id", 99), ("outcome", 9), ("split_index", 0), ("packets_received", 10_000),
    ("confidence", math.nan), ("robot_id", "robot2"), ("task_id", 12345)])
def test_a_forged_or_malformed_result_is_rejected(ros, field, value) -> None:
    head = ros(HeadNode)
    task = sent_task(head)
    head._on_result(result_for(task, **{field: value}))
    assert head.ledger.open[task.task_id].result is None
    assert rejected(head, topics.RESULT) == {field: 1}
    head._on_result(result_for(task))  # the real one is still taken
    assert head.ledger.open[task.task_id].result["class_id"] == 3


def test_a_result_with_another_capture_stamp_is_rejected(ros) -> None:
    head = ros(HeadNode)
    task = sent_task(head)
    forged = result_for(task)
    forged.capture_stamp.nanosec = (forged.capture_stamp.nanosec + 1) % 1_000_000_000
    head._on_result(forged)
    assert rejected(head, topics.RESULT) == {"capture_stamp": 1}


@pytest.mark.parametrize(("field", "value"), [
    ("total_energy_j", 3e38), ("total_energy_j", math.nan), ("transmit_energy_j", 1e3)])
def test_the_head_bounds_its_tasks_energy_reports(ros, field, value) -> None:
    head = ros(HeadNode)
    task = sent_task(head)
    report = EnergyReport(robot_id="robot1", task_id=task.task_id,
                          compute_energy_j=task.compute_energy_j)
    setattr(report, field, value)
    head._on_energy(report)
    assert head.ledger.open[task.task_id].energy is None
    assert rejected(head, topics.ENERGY) == {field: 1}


def test_deactivation_closes_every_open_task(ros) -> None:
    head = ros(HeadNode)
    recorded = []
    head._record = lambda task, kind, reason, now, **_: recorded.append((kind, reason))
    sent_task(head)
    assert head.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
    assert recorded == [(DROPPED, "robot stopped before the task's outcome")]
    assert not head.ledger.open


def test_a_far_off_frame_stamp_is_flagged_once_and_dropped(ros) -> None:
    head = ros(HeadNode)
    errors = []
    head.get_logger().error = lambda text, **_: errors.append(text)
    recorded = []
    head._record = lambda task, kind, reason, now, **_: recorded.append((kind, reason))
    for i in range(3):
        image = cv2_to_imgmsg(np.zeros((28, 28), np.uint8), "mono8")
        image.header.stamp.sec = 1_800_000_000 + i  # e.g. wall time into a sim-time fleet
        head._on_image(image)
    head._on_image(image)  # the same frame again: no second outcome
    assert len(errors) == 1 and "use_sim_time" in errors[0]
    assert [k for k, _ in recorded] == [DROPPED] * 3 and "header.stamp" in recorded[0][1]
    assert rejected(head, topics.IMAGE) == {"header.stamp": 3, "header.stamp.repeat": 1}


# ----------------------------------------------------------------------------- the edge
def packets_of(head: HeadNode) -> list[FeaturePacket]:
    return list(sent_task(head).packets)


@pytest.mark.parametrize(("field", "value"), [
    ("shape", [1, 3, 3]), ("shape", [1, 64, 64]), ("shape", [1, 10**9, 28]),
    ("packet_count", 77), ("bits", 3), ("split_index", 999), ("model_name", "x"),
    ("robot_id", "robot2")])
def test_the_tail_rejects_a_packet_that_does_not_fit_the_split(ros, field, value) -> None:
    head = ros(HeadNode)
    tail = ros(TailNode, robot_ids=["robot1"])
    packet = packets_of(head)[0]
    setattr(packet, field, value)
    tail._on_packet("robot1", packet)
    assert not tail.tasks
    assert rejected(tail, topics.robot_topic("robot1", topics.FEATURES)) == {field: 1}


def test_forged_future_task_ids_cannot_make_real_packets_late(ros) -> None:
    head = ros(HeadNode)
    tail = ros(TailNode, robot_ids=["robot1"])
    real = packets_of(head)[0]
    tail._on_packet("robot1", real)
    # a forged packet with the robot's next task id but its own (guessed) stamp is another task
    near = copy.deepcopy(real)
    near.task_id = real.task_id + 1
    near.header.stamp.nanosec = (near.header.stamp.nanosec + 7) % 1_000_000_000
    tail._on_packet("robot1", near)
    keys = list(tail.tasks)
    tail._finish(keys[-1], tail.tasks[keys[-1]], DROPPED, "forged")
    genuine = copy.deepcopy(real)
    genuine.task_id = real.task_id + 1
    tail._on_packet("robot1", genuine)
    assert ("robot1", real.task_id + 1,
            genuine.header.stamp.sec * 1_000_000_000 + genuine.header.stamp.nanosec) in tail.tasks


def test_the_tail_ignores_decisions_for_robots_it_does_not_serve(ros) -> None:
    tail = ros(TailNode, robot_ids=["robot1"])
    d = SchedulerDecisionArray(decisions=[SchedulerDecision(robot_id="robot9"),
                                          SchedulerDecision(robot_id="robot1",
                                                            entropy_threshold=math.nan)])
    tail._on_decisions(d)
    assert not tail.decisions
    assert rejected(tail, topics.DECISIONS) == {"robot_id": 1, "entropy_threshold": 1}


# ----------------------------------------------------------------------------- the scheduler
def test_the_scheduler_bounds_energy_reports_and_counts_each_task_once(ros) -> None:
    sched = ros(SchedulerNode, robot_ids=["robot1", "robot2"], max_tasks_per_frame=3)
    topic = topics.robot_topic("robot1", topics.ENERGY)
    sched._on_frame()  # frame 0 published
    for forged in (3e38, math.nan, -1.0):
        sched._on_energy(0, EnergyReport(robot_id="robot1", task_id=1, total_energy_j=forged,
                                         compute_energy_j=forged))
    assert np.all(np.isfinite(sched.queues.q)) and np.all(sched.queues.q == 0)
    ok = EnergyReport(robot_id="robot1", task_id=1, total_energy_j=0.01, compute_energy_j=0.01)
    sched._on_energy(0, ok)
    sched._on_energy(0, ok)  # replayed
    sched._on_energy(0, EnergyReport(robot_id="robot2", task_id=2, total_energy_j=0.0))  # topic
    sched._on_energy(0, EnergyReport(robot_id="robot1", task_id=2, frame_index=10**6))  # future
    assert sched.reports_received == 1
    assert rejected(sched, topic) == {"compute_energy_j": 3, "task_id": 1, "robot_id": 1,
                                      "frame_index": 1}
    for task_id in (2, 3, 4):  # a flood of in-bound reports stops at the per-frame cap
        sched._on_energy(0, EnergyReport(robot_id="robot1", task_id=task_id))
    assert sched.reports_received == 3 and rejected(sched, topic)["frame_index"] == 2
    # a robot that restarts counts from task 0 again: a new frame, a new task
    sched._on_frame()
    sched._on_energy(0, EnergyReport(robot_id="robot1", task_id=1, frame_index=1))
    assert sched.reports_received == 4
    # transmit energy beyond the radio's draw at p_max over the window the task's frame
    # planned, listening beyond its draw over the deadline
    window = sched.windows[0][1]
    compute = float(np.max(sched.splits.compute_j))
    tx_bound, listen_bound = sched.radio.power.bounds_j(sched.radio.p_max_w, window,
                                                        sched.p["deadline_s"])
    for task_id, transmit, listen in ((5, tx_bound * 0.99, listen_bound * 0.99),
                                      (6, tx_bound * 1.01, 0.0), (7, 0.0, listen_bound * 1.01)):
        sched._on_energy(0, EnergyReport(robot_id="robot1", task_id=task_id, frame_index=1,
                                         compute_energy_j=compute, transmit_energy_j=transmit,
                                         listen_energy_j=listen,
                                         total_energy_j=compute + transmit + listen))
    assert sched.reports_received == 5
    assert rejected(sched, topic)["transmit_energy_j"] == 1
    assert rejected(sched, topic)["listen_energy_j"] == 1


def test_the_transmitter_rejects_a_malformed_encoded_task(ros) -> None:
    head = ros(HeadNode)
    tx = ros(TransmitterNode)
    task = sent_task(head)
    task.decision.power_law = "bogus"
    tx._on_task(task)
    task.decision.power_law = "tracking"
    task.deadline = to_time(1e9)
    tx._on_task(task)
    assert not tx.queue
    assert rejected(tx, topics.ENCODED) == {"decision.power_law": 1, "deadline": 1}


def test_rejects_reach_diagnostics(ros) -> None:
    from enachi_ros.ros.diagnostics import rejects_of

    head = ros(HeadNode)
    head._on_decisions(decision(head, bits=3))
    status = head.diagnostics.status()
    assert rejects_of(status) == {topics.DECISIONS: {"bits": 1}}
    head._on_image(cv2_to_imgmsg(np.zeros((3, 3), np.uint8), "mono8"))  # a robot-local topic
    assert rejects_of(head.diagnostics.status())["/camera/image"] == {"header.stamp": 1}
    assert status.level == status.WARN


# ----------------------------------------------------------------------------- any message
def _any_message_rejected_cleanly(check, msg) -> None:
    from enachi_ros.ros.rejects import InputError

    try:
        check(msg)
    except InputError as exc:
        assert exc.field and exc.expected
    except ValueError as exc:  # PacketPayload's own checks: "<field> must ..."
        assert " must " in str(exc), exc


def test_validators_accept_or_name_the_field_for_any_message() -> None:
    """Whatever a peer sends, a check either passes or raises a ValueError naming the field:
    never an IndexError, OverflowError, MemoryError or a crash in numpy."""
    from fuzz_messages import message_strategy
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from enachi_ros.models.runtime import ModelRuntime
    from enachi_ros.ros import validation as v

    runtime = ModelRuntime("fmnist_resnet")
    now = time.time()
    checks = {
        SchedulerDecision: lambda m: v.check_decision(m, runtime.name, runtime.n_splits, 1.0,
                                                      0.005),
        EnergyReport: lambda m: v.check_energy_report(m, "robot1", 1.0, 1.0, 1.0),
        ChannelReport: lambda m: v.check_channel_report(m, "robot1", 21, 1e9),
        EncodedTask: lambda m: v.check_encoded_task(m, "robot1", 1.0, 0.005, now, 10.0),
        FeaturePacket: lambda m: v.check_packet(
            m, "robot1", runtime.name, runtime.kind,
            lambda s: runtime.artifact.split(s).feature_shape,
            lambda s, b: len(runtime.layouts(s, b)), runtime.n_splits),
        InferenceResult: lambda m: v.check_edge_result(m, "robot1", 10, 5, 1, (1, 2)),
    }

    codec_packet = (FeaturePacket, "codec")  # a packet of a codec frame (camera models)
    checks[codec_packet] = lambda m: v.check_codec_packet(m, 8, (3, 160, 160), 1024, 75)

    @settings(max_examples=300, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data) -> None:
        kind = data.draw(st.sampled_from(list(checks)))
        msg_type = kind[0] if isinstance(kind, tuple) else kind
        _any_message_rejected_cleanly(checks[kind], data.draw(message_strategy(msg_type)))

    run()


# ----------------------------------------------------------------------------- legitimate traffic
def test_a_capture_record_after_its_image_is_its_label_and_a_late_copy_no_second_outcome(
        ros) -> None:
    """Found in review: the executor may run the image callback before the record's, and a
    frame dropped for its missing image may see the image late; neither is a second frame."""
    from enachi_interfaces.msg import GroundTruth

    head = ros(HeadNode)
    recorded = []
    real_record = head._record

    def record(task, kind, reason, now, **kw) -> None:
        real_record(task, kind, reason, now, **kw)  # joins the label
        recorded.append((task.stamp_key, task.ground_truth, kind))

    head._record = record
    task = sent_task(head)  # its image came first
    record = GroundTruth(label=7)
    record.header.stamp = task.header.stamp
    head._on_label(record)
    head._on_result(result_for(task))
    head._on_energy(EnergyReport(robot_id="robot1", task_id=task.task_id,
                                 compute_energy_j=task.compute_energy_j,
                                 total_energy_j=task.compute_energy_j))
    head._close_due()
    assert [r[1:] for r in recorded] == [(7, EDGE_DEADLINE)] and not head.rejects.total
    # a record whose image never comes: dropped after deadline + grace; the image then is late
    late = GroundTruth(label=2)
    late.header.stamp = head.get_clock().now().to_msg()
    head._on_label(late)
    key = (late.header.stamp.sec, late.header.stamp.nanosec)
    head.awaiting_image[key] -= 10.0
    head._close_due()
    image = cv2_to_imgmsg(np.zeros((28, 28), np.uint8), "mono8")
    image.header.stamp = late.header.stamp
    head._on_image(image)
    assert [r[0] for r in recorded].count(key) == 1
    assert rejected(head, topics.IMAGE) == {"header.stamp.repeat": 1}


def test_heartbeats_alone_do_not_keep_a_robot_on_a_silent_edge(ros) -> None:
    """A heartbeat no longer clears the missed-results count: the robot runs locally and sends
    one task to the edge every edge_retry_s to see whether it serves again."""
    head = ros(HeadNode, edge_retry_s=0.5)
    head.edge_alive = True
    head._on_decisions(decision(head))
    head.missed_in_row = head.p["max_missed_results"]
    head._on_heartbeat(None)
    assert head._usable_decision()[0] is not None  # a probe
    assert head._usable_decision()[0] is None  # then local until the next retry
    head.last_probe_s -= 1.0
    assert head._usable_decision()[0] is not None


def test_the_edge_takes_a_robots_tasks_after_a_long_stretch_without_packets(ros) -> None:
    head = ros(HeadNode)
    tail = ros(TailNode, robot_ids=["robot1"])
    packet = packets_of(head)[0]
    packet.task_id = 10**6  # e.g. after hours of device-only decisions
    tail._on_packet("robot1", packet)
    assert len(tail.tasks) == 1 and not tail.rejects.total


def test_a_channel_report_cannot_claim_more_than_a_task_carries(ros) -> None:
    from enachi_interfaces.msg import ChannelReport

    sched = ros(SchedulerNode, robot_ids=["robot1"])
    topic = topics.robot_topic("robot1", topics.CHANNEL)
    for fields in ({"slot_gain": [1e-9] * 100_000}, {"rate_bps": 1e15}):
        sched._on_channel(0, ChannelReport(robot_id="robot1", gain=1e-9, packet_loss_rate=1.0,
                                           **fields))
    assert rejected(sched, topic) == {"slot_gain": 1, "rate_bps": 1}
