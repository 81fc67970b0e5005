"""Edge tail-inference node: reassembles partial features, early-stops on entropy, answers by the
deadline.

Feature packets of every robot land in a per-task buffer initialised with the per-channel training
mean (core ``Reassembler``). Every ``batch_period_s`` the tail runs once per split over the tasks
whose packet count reached a checkpoint (the k at which calibration measured the entropy: every k
for small models, a k-grid for large ones; batched across robots), computes the normalized entropy
and applies the edge's answer rule (``core.answer.edge_answer``, the one the simulator applies): on
an early stop it sends STOP and the result. The passes run on a worker thread, so packets keep
arriving during one. At the window end the result is produced from whatever arrived, unless the
decision asked for a full transmission (``partial_ok`` false: the edge needs every packet), in
which case an incomplete task gets no prediction (outcome dropped, with the packet count): the
scoring rule of ``core.scoring``.
A codec option's packets (the frame as JPEG or WebP bytes) are kept by index; once every packet of
the frame arrived the edge decodes it and runs the whole model on it (all or nothing: an
incomplete frame at the window end gets no prediction).
Every packet is validated before it touches a buffer (``ros.validation.check_packet``: the
robot of its topic, this edge's model, the split's feature shape and packet count, every payload
field; its stamps against the node's clock; at most ``max_open_tasks`` open tasks per robot); a
rejected one is counted per field and never sizes an allocation. A task is keyed by robot, task
id and capture stamp, so forged packets that reuse a robot's future task id cannot make its real
packets look late. (A window on task ids ahead of the highest seen was tried and dropped: the edge
sees a robot's counter only while packets flow, so after a long device-only stretch every real
packet fell outside it.) Deadlines use the node's
ROS clock (simulated time under ``use_sim_time``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from enachi_interfaces.msg import (
    FeaturePacket,
    InferenceResult,
    SchedulerDecision,
    SchedulerDecisionArray,
    TaskFeedback,
)
from std_msgs.msg import Header

from enachi_ros.core.answer import COMPLETE, EARLY_STOP, INCOMPLETE, WINDOW_END, edge_answer
from enachi_ros.core.artifact import normalized_entropy
from enachi_ros.core.outcomes import DROPPED, EDGE_DEADLINE, EDGE_EARLY_STOP
from enachi_ros.core.packets import FrameReassembler, Reassembler
from enachi_ros.models.runtime import ModelRuntime
from enachi_ros.ros import qos, topics
from enachi_ros.ros.lifecycle import ManagedNode
from enachi_ros.ros.messages import to_seconds
from enachi_ros.ros.params import (
    ARTIFACT_DIR,
    FEATURE_QUEUE,
    MAX_DEADLINE_S,
    MAX_STAMP_SKEW,
    MODEL,
    ROBOT_IDS,
    Param,
)
from enachi_ros.ros.physical import RADIO_PARAMS
from enachi_ros.ros.rejects import InputError, finite, one_of
from enachi_ros.ros.spin import spin_node
from enachi_ros.ros.validation import FLOAT32_SLACK, check_packet, check_stamp

PARAMS = (
    ROBOT_IDS,
    MODEL,
    ARTIFACT_DIR,
    Param(
        "entropy_threshold",
        -1.0,
        "early-stop threshold theta; < 0: the decision's (calibrated)",
        low=-1.0,
        high=1.0,
    ),
    Param("batch_period_s", 0.002, "how often the batched tail runs (s)", low=0.0005, high=1.0),
    Param("feedback_repeats", 2, "STOP is sent this many times (lossy links)", low=1, high=10),
    Param("heartbeat_period_s", 0.2, "edge heartbeat period (liveliness) (s)", low=0.01, high=10.0),
    Param("threads", 1, "torch CPU threads", low=1, high=64),
    Param("max_open_tasks", 32, "open tasks per robot; packets of further tasks are rejected",
          low=1, high=10000),
    MAX_STAMP_SKEW,
    *FEATURE_QUEUE,
    *RADIO_PARAMS,
)


TaskKey = tuple[str, int, int]  # robot, task id, capture stamp (ns)


@dataclass
class _Task:
    robot_id: str
    task_id: int
    frame_index: int
    split: int
    buffer: Reassembler | FrameReassembler
    total: int
    deadline_s: float
    capture_s: float
    checkpoints: np.ndarray  # packet counts at which the entropy is checked (calibration's k)
    bytes_received: int = 0
    dirty: bool = False  # a checkpoint was crossed since the last pass
    fresh: bool = False  # packets arrived since the last pass
    probs_packets: int = 0  # packets the probabilities were computed from
    probs_bytes: int = 0  # and their payload bytes
    tail_s: float = 0.0
    probs: np.ndarray | None = field(default=None, repr=False)
    stamp: object = None  # the capture stamp, echoed in the result (the robot checks it)
    tail_split: int = -1  # the tail that runs on it: the split's, or the whole model's (codec)
    frame: np.ndarray | None = field(default=None, repr=False)  # a codec frame, decoded

    @property
    def codec(self) -> bool:
        return isinstance(self.buffer, FrameReassembler)

    def tensor(self) -> np.ndarray:
        """The tail's input: the mean-filled features, or the decoded codec frame."""
        return self.frame if self.codec else self.buffer.tensor()


class TailNode(ManagedNode):
    """Managed node: configure loads and traces the model and creates the topics; activate starts
    the heartbeat (the robots' sign that the edge serves) and the batched-tail clock; deactivate
    waits for the pass in flight and forgets the open tasks."""

    PARAMS = PARAMS

    def __init__(self, **kwargs) -> None:
        super().__init__("tail", **kwargs)
        self.worker: ThreadPoolExecutor | None = None

    def configure_node(self) -> None:
        self.runtime = ModelRuntime(self.p["model"], self.p["threads"], self.p["artifact_dir"])
        for split in range(self.runtime.n_splits):  # trace every tail now, not at a deadline
            if self.runtime.kind(split) in ("edge_only", "intermediate"):
                self.runtime.tail_module(split)
        self.tasks: dict[TaskKey, _Task] = {}
        self.finished: OrderedDict[TaskKey, None] = OrderedDict()
        self.n_packets: dict[tuple[int, int], int] = {}  # (split, bits) -> packet count
        # a codec frame runs through the whole model: the tail of the raw input's split
        self.whole_model = next(s.index for s in self.runtime.artifact.splits
                                if s.kind == "edge_only")
        payload = self.runtime.max_payload_bytes
        raw = int(np.prod(self.runtime.input_shape))
        self.codec_limits = (payload, -(-raw // payload))  # at most the raw frame's packets
        self.decisions: dict[tuple[str, int], SchedulerDecision] = {}
        self.late_packets = 0
        self.results = 0
        # The batched tail runs on a worker thread: a pass of the camera model takes 20-70 ms
        # on this CPU, and on the executor thread it would hold back every packet meanwhile
        # (one packet per subscription per executor round after a ready timer), so the window
        # would end with a fraction of what the radio delivered. torch releases the GIL while
        # it computes; the executor thread keeps taking packets and applies each pass when done.
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tail_pass")
        self.inflight: Future | None = None
        self.last_pass_s = 0.0
        self.pub_result: dict[str, object] = {}
        self.pub_feedback: dict[str, object] = {}
        for rid in self.p["robot_ids"]:
            self.create_subscription(
                FeaturePacket,
                topics.robot_topic(rid, topics.FEATURES),
                lambda m, rid=rid: self._on_packet(rid, m),
                qos.feature_qos(self.p["feature_queue_depth"], self.p["feature_lifespan_s"]),
            )
            self.pub_result[rid] = self.create_publisher(
                InferenceResult, topics.robot_topic(rid, topics.RESULT), qos.result_qos()
            )
            self.pub_feedback[rid] = self.create_publisher(
                TaskFeedback, topics.robot_topic(rid, topics.FEEDBACK), qos.feedback_qos()
            )
        self.create_subscription(
            SchedulerDecisionArray, topics.DECISIONS, self._on_decisions, qos.decision_qos()
        )
        self.heartbeat = self.create_publisher(Header, topics.EDGE_ALIVE, qos.heartbeat_qos())

    def activate_node(self) -> None:
        self.create_timer(self.p["heartbeat_period_s"], self._beat)
        # The batched tail only runs while tasks are open (CPU: the edge shares a host here).
        self.stepper = self.create_timer(self.p["batch_period_s"], self._step)
        self.stepper.cancel()

    def deactivate_node(self) -> None:
        if self.inflight is not None:
            self.inflight.result()
            self.inflight = None
        self.tasks.clear()

    def cleanup_node(self) -> None:
        if self.worker is not None:
            self.worker.shutdown(wait=True, cancel_futures=True)
            self.worker = None

    def _beat(self) -> None:
        h = Header(frame_id="edge")
        h.stamp = self.get_clock().now().to_msg()
        self.heartbeat.publish(h)

    def _on_decisions(self, msg: SchedulerDecisionArray) -> None:
        """The tail uses a decision's early-stop settings (threshold, progressive, partial_ok)
        for the robot's tasks of that frame; decisions for robots it does not serve or with a
        threshold outside [-1, 1] are rejected."""
        for d in msg.decisions:
            try:
                one_of("robot_id", d.robot_id, self.p["robot_ids"])
                finite("entropy_threshold", d.entropy_threshold, -1.0, 1.0)
            except InputError as exc:
                self.rejects.reject(topics.DECISIONS, exc, "decision")
                continue
            self.decisions[(d.robot_id, int(d.frame_index))] = d
        if len(self.decisions) > 2000:
            for key in list(self.decisions)[:1000]:
                del self.decisions[key]

    def _packets_of(self, split: int, bits: int) -> int:
        key = (split, bits)
        if key not in self.n_packets:
            self.n_packets[key] = len(self.runtime.layouts(split, bits))
        return self.n_packets[key]

    def _on_packet(self, rid: str, msg: FeaturePacket) -> None:
        topic = topics.robot_topic(rid, topics.FEATURES)
        try:
            self._take_packet(rid, msg)
        except ValueError as exc:
            self.rejects.reject(topic, exc, "feature packet")

    def _take_packet(self, rid: str, msg: FeaturePacket) -> None:
        key = (rid, int(msg.task_id), msg.header.stamp.sec * 1_000_000_000
               + msg.header.stamp.nanosec)
        if key in self.finished:
            self.late_packets += 1
            return
        payload = check_packet(msg, rid, self.runtime.name, self.runtime.kind,
                               lambda s: self.runtime.artifact.split(s).feature_shape,
                               self._packets_of, self.runtime.n_splits, self.codec_limits)
        task = self.tasks.get(key)
        if task is None:
            task = self._open_task(rid, key, msg)
        elif (int(msg.split_index), int(msg.packet_count)) != (task.split, task.total):
            raise InputError("split_index", int(msg.split_index),
                             f"{task.split} with {task.total} packets (the task's first packet)")
        added = (task.buffer.add(int(msg.packet_index), payload) if task.codec
                 else task.buffer.add(payload))
        if added:
            task.bytes_received += len(msg.data)
            task.fresh = True
            task.dirty = task.dirty or task.buffer.received_count in task.checkpoints
            if task.codec and task.buffer.complete:
                self._decode(key, task)
            if self.stepper.is_canceled():
                self.stepper.reset()

    def _decode(self, key: TaskKey, task: _Task) -> None:
        """A complete codec frame: decode it for the whole model; bytes that are no image of
        the model's input are rejected and the task answered as dropped."""
        try:
            task.frame = self.runtime.decode(task.buffer.data())
        except ValueError as exc:
            task.dirty = task.fresh = False
            self._finish(key, task, DROPPED, f"codec frame does not decode: {exc}")
            raise InputError("data", f"{task.bytes_received} bytes", "a JPEG or WebP frame of "
                             "the model's input size") from None

    def _open_task(self, rid: str, key: TaskKey, msg: FeaturePacket) -> _Task:
        """A new task from its first packet (validated: nothing is sized by the sender)."""
        now = self.now()
        capture = check_stamp("header.stamp", msg.header.stamp, now, self.p["max_stamp_skew_s"])
        deadline = to_seconds(msg.deadline)
        # the decision of the task's frame, when this edge has it, says what the deadline is: a
        # forged task may not hold one of the robot's open-task slots for a minute
        d = self.decisions.get((rid, int(msg.frame_index)))
        longest = float(d.deadline_s) * (1 + FLOAT32_SLACK) if d is not None else MAX_DEADLINE_S
        if not 0.0 < deadline - capture <= longest:
            raise InputError("deadline", round(deadline, 3), f"in (capture, capture + "
                             f"{longest:g} s] (capture {capture:.3f} s)")
        task_id = key[1]
        if sum(1 for t in self.tasks.values() if t.robot_id == rid) >= self.p["max_open_tasks"]:
            raise InputError("task_id", task_id, f"a slot among the {self.p['max_open_tasks']} "
                             f"open tasks of {rid} (all taken)")
        split = int(msg.split_index)
        codec = self.runtime.codec(split) is not None
        buffer = (FrameReassembler(int(msg.packet_count)) if codec else
                  Reassembler(tuple(int(v) for v in msg.shape), self.runtime.channel_mean(split)))
        task = _Task(rid, task_id, int(msg.frame_index), split, buffer,
                     int(msg.packet_count), deadline, capture,
                     self.runtime.checkpoints(split, int(msg.packet_count)))
        task.stamp = msg.header.stamp
        task.tail_split = self.whole_model if codec else split
        self.tasks[key] = task
        return task

    def _theta(self, task: _Task) -> tuple[float, bool]:
        d = self.decisions.get((task.robot_id, task.frame_index))
        if self.p["entropy_threshold"] >= 0:
            return self.p["entropy_threshold"], d.progressive if d else True
        if d is not None:
            return float(d.entropy_threshold), bool(d.progressive)
        return self.runtime.theta(task.split), True

    def _needs_all(self, task: _Task) -> bool:
        if task.codec:
            return True
        d = self.decisions.get((task.robot_id, task.frame_index))
        return d is not None and not d.partial_ok

    def _step(self) -> None:
        if not self.tasks and self.inflight is None:
            self.stepper.cancel()
            return
        if self.inflight is not None and self.inflight.done():
            self._apply(self.inflight.result())
            self.inflight = None
        now = self.now()
        fb = self.p["feedback_s"]
        if self.inflight is None:
            self._submit(now, fb)
        for key, task in list(self.tasks.items()):
            due = now >= task.deadline_s - fb
            if due and task.codec and task.frame is None:
                self._finish(key, task, DROPPED, f"codec frame incomplete at the window end: "
                             f"{task.buffer.received_count}/{task.total} packets")
                continue
            if due and task.probs_packets < task.buffer.received_count:
                self._evaluate_now(task)  # its window ends: answer from all that arrived
            if task.probs is None:
                continue
            entropy = float(normalized_entropy(task.probs[None])[0])
            theta, progressive = self._theta(task)
            got = task.probs_packets
            answer = int(edge_answer(received=got, total=task.total, entropy=entropy,
                                     theta=theta, progressive=progressive, window_over=due,
                                     partial_ok=not self._needs_all(task)))
            if answer == COMPLETE:  # nothing left to save: no early stop
                self._finish(key, task, EDGE_DEADLINE, f"all {task.total} packets received")
            elif answer == EARLY_STOP:
                self._finish(key, task, EDGE_EARLY_STOP, f"entropy {entropy:.3f} <= {theta:.3f}")
            elif answer == INCOMPLETE:
                self._finish(key, task, DROPPED, f"full transmission incomplete at the window "
                             f"end: {got}/{task.total} packets (the edge needs all)")
            elif answer == WINDOW_END:
                self._finish(key, task, EDGE_DEADLINE,
                             f"window end with {got}/{task.total} packets")

    def _submit(self, now: float, fb: float) -> None:
        """Start a pass over the tasks that crossed a checkpoint, and over those with unevaluated
        packets whose window ends within about two passes."""
        by_split: dict[int, list[_Task]] = {}
        for task in self.tasks.values():
            due = now >= task.deadline_s - fb - 2.0 * self.last_pass_s
            if task.codec and task.frame is None:
                continue  # nothing to run before the whole frame is there
            if task.dirty or (task.fresh and due):
                by_split.setdefault(task.tail_split, []).append(task)
        if not by_split:
            return
        work = []
        for split, group in by_split.items():
            work.append((split, group, [(t.buffer.received_count, t.bytes_received)
                                        for t in group],
                         np.stack([t.tensor() for t in group])))
            for t in group:
                t.dirty = t.fresh = False
        self.inflight = self.worker.submit(self._run_pass, work)

    def _evaluate_now(self, task: _Task) -> None:
        """Blocking, at a task's window end: wait for the pass in flight, then evaluate the task
        on everything that arrived if that pass did not."""
        if self.inflight is not None:
            self._apply(self.inflight.result())
            self.inflight = None
        if task.probs_packets < task.buffer.received_count:
            task.dirty = task.fresh = False
            features = task.tensor()[None]
            counts = [(task.buffer.received_count, task.bytes_received)]
            self._apply(self._run_pass([(task.tail_split, [task], counts, features)]))

    def _run_pass(self, work: list) -> tuple[list, float]:
        """Worker thread: the tail on each split's stacked features (no node state touched)."""
        t0 = time.perf_counter()
        out = []
        for split, group, counts, features in work:
            t1 = time.perf_counter()
            probs = self.runtime.tail_batch(features, split)
            out.append((group, counts, probs, (time.perf_counter() - t1) / len(group)))
        return out, time.perf_counter() - t0

    def _apply(self, result: tuple[list, float]) -> None:
        """Executor thread: store a finished pass's probabilities on the tasks still open."""
        out, elapsed = result
        self.last_pass_s = elapsed
        for group, counts, probs, per_task in out:
            for task, count, pr in zip(group, counts, probs, strict=True):
                task.tail_s += per_task
                if count[0] >= task.probs_packets:
                    task.probs, (task.probs_packets, task.probs_bytes) = pr, count

    def destroy_node(self) -> None:
        self.cleanup_node()
        return super().destroy_node()

    def _finish(self, key: TaskKey, task: _Task, outcome: int, reason: str) -> None:
        del self.tasks[key]
        self.finished[key] = None
        if len(self.finished) > 5000:
            self.finished.popitem(last=False)
        stamp = self.get_clock().now().to_msg()
        if outcome == EDGE_EARLY_STOP or task.buffer.received_count < task.total:
            fb = TaskFeedback(
                robot_id=task.robot_id,
                task_id=task.task_id,
                command=TaskFeedback.COMMAND_STOP,
                packets_received=task.buffer.received_count,
            )
            fb.header.stamp = stamp
            for _ in range(self.p["feedback_repeats"]):
                self.pub_feedback[task.robot_id].publish(fb)
        probs = task.probs
        if outcome != DROPPED and not np.all(np.isfinite(probs)):
            # packets with in-range but huge values (a forged payload in a real task) reach
            # the tail: no class from non-finite scores
            outcome, reason = DROPPED, f"non-finite tail output ({reason})"
        cls = int(np.argmax(probs)) if outcome != DROPPED else -1
        r = InferenceResult(
            robot_id=task.robot_id,
            task_id=task.task_id,
            frame_index=task.frame_index,
            outcome=outcome,
            reason=reason,
        )
        r.header.stamp = stamp
        r.capture_stamp = task.stamp
        r.class_id = cls
        r.label = self.runtime.class_names[cls] if cls >= 0 else ""
        r.confidence = float(probs[cls]) if cls >= 0 else 0.0
        r.entropy = float(normalized_entropy(probs[None])[0]) if cls >= 0 else 1.0
        r.ground_truth = -1
        r.split_index = task.split
        r.packets_received = task.probs_packets  # what the answer was computed from
        r.packets_total = task.total
        r.bytes_received = task.probs_bytes
        r.latency_tail_s = task.tail_s
        r.deadline_met = self.now() <= task.deadline_s
        self.pub_result[task.robot_id].publish(r)
        self.results += 1


def main(args: list[str] | None = None) -> None:
    spin_node(TailNode, args)


NODE_CLASS = TailNode

if __name__ == "__main__":
    main()
