"""Frame- and slot-level simulator driven by the real per-sample calibration traces.

Per frame: the channel advances by one frame of slots (the same trace for every policy), every
robot draws a real held-out sample (the same for every policy), each policy decides from its own
virtual queues, and then all policies' tasks run as one batch through the core's packet level
(``core.link.Uplink``, the composition the ROS transmitter runs) and the edge's answer rule
(``core.answer.edge_answer``, the one the tail node applies): what is simulated is what the
robots and the edge run. Every task is scored by the one rule
of ``core.scoring``: it is answered when the edge received at least one packet (and, for a full
transmission, all of them) or the robot ran the model; otherwise it is unanswered, wrong, and
counted under its reason. An answered task's prediction is read from the traces at the
importance-order prefix the edge held when it answered (at the STOP or at the window end); the
traces hold outcomes for prefixes only, so an answered task whose received packets form no
prefix (possible with a random send order) is scored wrong, a lower bound. A task answered after
its deadline is wrong. Randomness comes from independent, seeded streams (channel, samples,
residual losses, send orders), so runs are deterministic for a seed and policies see common
random numbers. Each policy plans with the delivery rate it measured from its own simulated
tasks (``core.delivery.DeliveryEstimator`` fed with each task's lost / sent packets and bits
sent, the quantities of a robot's channel report), as the scheduler node does from the reports.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from enachi_ros.core.answer import EARLY_STOP, edge_answer
from enachi_ros.core.artifact import Traces, default_artifact_dir, load_artifact
from enachi_ros.core.channel import (
    ChannelEstimator,
    RayleighChannel,
    TraceChannel,
    load_snr_traces,
)
from enachi_ros.core.deadline import feasible
from enachi_ros.core.delivery import DeliveryEstimator, report_loss_rate
from enachi_ros.core.energy import base_power_w
from enachi_ros.core.link import EmulatedLink, Uplink
from enachi_ros.core.policies import Decisions, FrameState, Hindsight, Policy, make_policy
from enachi_ros.core.progressive import EdgeBuffer, random_send_order
from enachi_ros.core.queues import VirtualQueues
from enachi_ros.core.scoring import summarize, task_correct, task_status
from enachi_ros.core.solver import result_wait_s
from enachi_ros.core.split_table import SplitTable
from enachi_ros.sim.config import ExperimentConfig
from enachi_ros.sim.synthetic import write_synthetic_artifact

_STREAMS = {"geometry": 1, "channel": 2, "samples": 3, "loss": 4, "order": 5}


def resolve_artifact(spec: str) -> Path:
    """'synthetic' -> a generated fixture; an existing directory; else a committed model name."""
    if spec == "synthetic":
        folder = Path(tempfile.gettempdir()) / "enachi_synthetic_artifact"
        if not (folder / "traces.npz").is_file():
            write_synthetic_artifact(folder)
        return folder
    if Path(spec).is_dir():
        return Path(spec)
    return default_artifact_dir(spec)


def load_inputs(cfg: ExperimentConfig) -> tuple[SplitTable, Traces]:
    """The split table (with this config's device model) and the test-set traces."""
    art = load_artifact(resolve_artifact(cfg.artifact))
    if art.traces is None:
        raise ValueError(f"artifact {cfg.artifact!r}: traces.npz is missing")
    return SplitTable.from_profile(art.profile, cfg.device.params()), art.traces


@dataclass
class TaskOutcomes:
    """Per task (a flat batch of policies x robots) what one frame produced; ``status`` is the
    scoring rule's code (``core.scoring.STATUSES``)."""

    status: np.ndarray
    split: np.ndarray
    correct: np.ndarray
    energy_j: np.ndarray  # compute + radio, above the robot's base (idle board, dozing radio)
    met: np.ndarray
    bytes_sent: np.ndarray
    early_stop: np.ndarray
    packets: np.ndarray
    loss_rate: np.ndarray  # packets lost / sent, as the robot's channel report says
    transmit_j: np.ndarray  # the radio while it transmits
    listen_j: np.ndarray  # the radio awake without transmitting (window slots, the result)


def run_slots(
    decs: list[Decisions],
    splits: SplitTable,
    traces: Traces,
    *,
    slot_gains: np.ndarray,
    h_est: np.ndarray,
    samples: np.ndarray,
    loss_draws: np.ndarray,
    orders: np.ndarray,
    radio,
    deadline_s: float,
) -> TaskOutcomes:
    """One frame of every policy's tasks through the packet level, batched over policies."""
    n = h_est.size
    n_pol = len(decs)
    cat = lambda key: np.concatenate([np.asarray(getattr(d, key)) for d in decs])  # noqa: E731
    run, split, w = cat("run"), cat("split"), cat("bandwidth_hz")
    slots, theta = np.where(run, cat("window_slots"), 0), cat("entropy_threshold")
    progressive, partial_ok = cat("progressive"), cat("partial_ok")
    importance = cat("importance_order")
    gains = np.tile(slot_gains, (n_pol, 1))
    sample = np.tile(samples, n_pol)
    bits = splits.packet_bits[split]
    codec = splits.codec[split] & run
    if codec.any():  # every codec frame costs its own size
        if traces.frame_bytes is None:
            raise ValueError("traces: codec options need frame_bytes (recalibrate the model)")
        frame = splits.frame_packet_bits(traces.frame_bytes[split[codec], sample[codec]])
        width = max(bits.shape[1], frame.shape[1])
        bits = np.pad(bits, ((0, 0), (0, width - bits.shape[1])))
        bits[codec] = np.pad(frame, ((0, 0), (0, width - frame.shape[1])))
    k_tot = (bits > 0).sum(axis=1)
    target = np.concatenate([
        d.stop_at_packets if d.stop_at_packets is not None else np.full(n, -1) for d in decs
    ])
    k_max = bits.shape[1]
    order = None
    if not importance.all():
        shuffled = random_send_order(np.tile(orders, (n_pol, 1)), k_tot)
        order = np.where(importance[:, None], np.arange(k_max)[None, :], shuffled)
    link = EmulatedLink(radio, draws=loss_draws)
    uplink = Uplink(bits, gains, slots, w, cat("p_ref"), np.tile(h_est, n_pol),
                    [d.power_law for d in decs for _ in range(n)], radio, link,
                    feedback_delay=cat("feedback_delay_slots"), send_order=order,
                    decode_skip=np.repeat([bool(d.decode_skip) for d in decs], n),
                    result_wait_s=result_wait_s(splits.tail_s[split], radio))
    edge = EdgeBuffer(split.size, k_max)
    compute = np.where(run, splits.compute_j[split], 0.0)
    stopped = np.zeros(split.size, bool)
    k_stop = np.zeros(split.size, int)
    k_prev = np.zeros(split.size, int)
    for _ in range(int(slots.max(initial=0))):
        if uplink.done.all():
            break
        step = uplink.step()
        edge.receive(step.delivered)
        k = edge.prefix()
        answer = edge_answer(received=k, total=k_tot, entropy=traces.entropy[split, sample, k],
                             theta=theta, progressive=progressive, window_over=False,
                             partial_ok=partial_ok, stop_at_packets=target)
        # the tail evaluates a task when its prefix grew; an early stop ends the transmission
        stop = ~stopped & (k > k_prev) & (answer == EARLY_STOP)
        k_stop = np.where(stop, k, k_stop)
        stopped |= stop
        uplink.stop(stop)
        k_prev = k
    uplink.finish(stopped)  # the others wait for their result
    energy = compute + uplink.energy_j
    tx = splits.transmits[split]
    k_final = np.where(stopped, k_stop, edge.prefix())
    # what the edge held when it answered: everything received by the STOP or the window end
    received = np.where(stopped, np.maximum(k_stop, 1), edge.count())
    status = task_status(run=run, transmits=tx, window_slots=slots, packets_received=received,
                         num_packets=k_tot, partial_ok=partial_ok)
    met = feasible(deadline_s, splits, radio.slot_s, radio.feedback_s)[split]
    predicted = np.where(tx, (k_final >= 1) & traces.correct[split, sample, k_final],
                         traces.correct[split, sample, 0])
    correct = task_correct(status, predicted, met)
    early = stopped & progressive & (k_final < k_tot)  # stopped before the last packet
    return TaskOutcomes(status, np.where(run, split, -1), correct, energy, met,
                        uplink.bits_sent / 8.0, early, k_final,
                        report_loss_rate(uplink.packets_lost, uplink.packets_sent),
                        uplink.transmit_j.copy(), uplink.listen_j.copy())


@dataclass
class PolicyStats:
    """Running sums for one policy at one experiment point."""

    queues: VirtualQueues
    split_names: tuple[str, ...]
    delivery: DeliveryEstimator | None = None  # what the policy measured of its own link
    base_j: float = 0.0  # per robot and frame: idle board and dozing radio (not controlled)
    energy: float = 0.0
    transmit: float = 0.0
    listen: float = 0.0
    bytes: float = 0.0
    early: float = 0.0
    packets: float = 0.0
    queue_sum: float = 0.0
    decide_s: float = 0.0
    frames: int = 0
    status: list = field(default_factory=list)
    splits: list = field(default_factory=list)
    correct: list = field(default_factory=list)
    met: list = field(default_factory=list)
    rows: list = field(default_factory=list)

    def add(self, o: TaskOutcomes, frame: int, decide_s: float) -> None:
        q = self.queues.update(o.energy_j)
        if self.delivery is not None:  # the robots' channel reports -> next decision
            self.delivery.update(o.loss_rate, 8.0 * o.bytes_sent)
        self.status.append(o.status)
        self.splits.append(o.split)
        self.correct.append(o.correct)
        self.met.append(o.met)
        self.energy += o.energy_j.sum()
        self.transmit += o.transmit_j.sum()
        self.listen += o.listen_j.sum()
        self.bytes += o.bytes_sent.sum()
        self.early += o.early_stop.sum()
        self.packets += o.packets.sum()
        self.queue_sum += q.mean()
        self.decide_s += decide_s
        self.frames += 1
        self.rows.append((frame, o.correct.mean(), (o.status == 0).mean(), o.energy_j.mean(),
                          o.bytes_sent.mean(), q.mean(), o.early_stop.mean()))

    def summary(self) -> dict:
        """The scoring rule's metrics (core.scoring.summarize) plus energy, bytes and queues."""
        scored = summarize(np.concatenate(self.status), np.concatenate(self.correct),
                           np.concatenate(self.met)) if self.status else summarize([], [], [])
        t = max(scored["tasks"], 1)
        ratio = self.queues.average_energy / self.queues.budgets
        split = np.concatenate(self.splits) if self.splits else np.zeros(0, int)
        share = {name: float((split == i).sum()) / t for i, name in enumerate(self.split_names)}
        return {
            **scored,
            "split_share": share,  # fraction of all tasks run at each split (rest: skipped)
            "energy_per_task_j": self.energy / t,
            "transmit_per_task_j": self.transmit / t,
            "listen_per_task_j": self.listen / t,
            "compute_per_task_j": (self.energy - self.transmit - self.listen) / t,
            # what every robot draws anyway, and the share of its energy the policy controls
            "base_per_task_j": self.base_j,
            "controlled_share": self.energy / t / (self.energy / t + self.base_j)
            if self.energy + self.base_j > 0 else 0.0,
            "bytes_per_task": self.bytes / t,
            "energy_vs_budget": float(ratio.mean()),
            "energy_vs_budget_max": float(ratio.max()),
            "mean_queue": self.queue_sum / max(self.frames, 1),
            "early_stop_rate": self.early / t,
            "packets_per_task": self.packets / t,
            "decision_ms": 1e3 * self.decide_s / max(self.frames, 1),
        }


def _channel(cfg: ExperimentConfig, distances: np.ndarray, radio, rng: np.random.Generator):
    if cfg.channel.model == "trace":
        return TraceChannel(load_snr_traces(cfg.channel.trace_file), distances.size,
                            noise_psd=radio.noise_psd_w_per_hz,
                            ref_power_w=cfg.channel.trace_ref_power_w,
                            ref_bandwidth_hz=cfg.channel.trace_ref_bandwidth_hz)
    return RayleighChannel(distances, cfg.channel.params(), radio.slot_s, rng)


def run_point(
    cfg: ExperimentConfig, splits: SplitTable, traces: Traces, frames: int | None = None
) -> dict[str, PolicyStats]:
    """Simulate one configuration (no sweep) for every policy with common random numbers."""
    radio = cfg.radio.params()
    n = cfg.robots.count
    rngs = {k: np.random.default_rng([cfg.seed, v]) for k, v in _STREAMS.items()}
    distances = rngs["geometry"].uniform(*cfg.robots.distance_m, size=n)
    if cfg.robots.distances_m is not None:
        distances = np.asarray(cfg.robots.distances_m, dtype=float)
    channel = _channel(cfg, distances, radio, rngs["channel"])
    period = cfg.frame_period_s or cfg.deadline_s
    frame_slots = max(1, math.ceil(period / radio.slot_s - 1e-9))
    budgets = np.full(n, cfg.robots.budget_j)
    policies: list[Policy] = [make_policy(p, cfg.effective_v, cfg.theta, cfg.fixed_split)
                              for p in cfg.policies]
    base = base_power_w(cfg.device.params(), radio.power.sleep_w) * period
    stats = {p.name: PolicyStats(VirtualQueues(budgets), splits.names,
                                 DeliveryEstimator(n), base) for p in policies}
    k_max = splits.packet_bits.shape[1]
    n_samples = traces.correct.shape[1]
    h_est = None
    for m in range(frames or cfg.frames):
        gains = channel.slots(frame_slots)
        if h_est is None:  # reports of a few frames before the first decision
            warm = channel.slots(frame_slots * 10).reshape(n, 10, frame_slots).mean(axis=2)
            estimator = ChannelEstimator(warm[:, 0], cfg.channel.estimate_smoothing)
            for k in range(1, 10):
                h_est = estimator.update(warm[:, k])
        samples = rngs["samples"].integers(0, n_samples, n)
        loss = rngs["loss"].random((n, frame_slots, k_max)) if radio.residual_loss > 0 else \
            np.ones((1, frame_slots, k_max))
        orders = rngs["order"].random((n, k_max))
        hind = Hindsight(gains, np.transpose(traces.correct[:, samples, :], (1, 0, 2)))
        decs, times = [], []
        for pol in policies:
            state = FrameState(h_est, stats[pol.name].queues.q, budgets, cfg.deadline_s,
                               radio.bandwidth_hz, splits, radio, distances, m,
                               hind if pol.name == "oracle" else None,
                               stats[pol.name].delivery.delivery)
            t0 = time.perf_counter()
            decs.append(pol.decide(state))
            times.append(time.perf_counter() - t0)
        loss_b = np.tile(loss, (len(policies), 1, 1)) if loss.shape[0] > 1 else \
            np.broadcast_to(loss, (len(policies) * n, frame_slots, k_max))
        out = run_slots(decs, splits, traces, slot_gains=gains, h_est=h_est, samples=samples,
                        loss_draws=loss_b, orders=orders, radio=radio, deadline_s=cfg.deadline_s)
        for i, pol in enumerate(policies):
            sl = slice(i * n, (i + 1) * n)
            stats[pol.name].add(TaskOutcomes(*(getattr(out, f)[sl] for f in
                                               TaskOutcomes.__dataclass_fields__)), m, times[i])
        h_est = estimator.update(gains.mean(axis=1))  # the robots' reports -> next decision
    return stats
