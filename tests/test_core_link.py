"""The packet level (core.link) and the edge's answer rule (core.answer): the protocol (power
limits, stop, window, loss), and one path: a robot's transmitter (one ``Uplink`` per task, as the
node runs it) with the tail's answer rule gives exactly the per-task outcomes of the
simulator's batched slot loop, for the same gains, decisions, samples and random draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_fixtures import synthetic_dir

from enachi_ros.core.answer import (
    COMPLETE,
    EARLY_STOP,
    INCOMPLETE,
    NO_PACKET,
    WAIT,
    WINDOW_END,
    edge_answer,
)
from enachi_ros.core.channel import RayleighChannel
from enachi_ros.core.deadline import feasible
from enachi_ros.core.link import EmulatedLink, RealLink, Uplink
from enachi_ros.core.params import RadioParams
from enachi_ros.core.policies import Enachi, FrameState, Hindsight, make_policy
from enachi_ros.core.progressive import EdgeBuffer, random_send_order
from enachi_ros.core.scoring import task_correct, task_status
from enachi_ros.core.solver import result_wait_s
from enachi_ros.sim.config import parse_config
from enachi_ros.sim.simulator import load_inputs, run_slots

DEADLINE = 0.02
RADIO = RadioParams(bandwidth_hz=100e3, p_max_w=0.2, decode_snr_db=3.0, slot_s=1e-3)


def _task(gains, law="tracking", link=None, bits=2000.0, k=8, p_ref=0.1) -> Uplink:
    gains = np.asarray(gains, float)
    return Uplink(np.full((1, k), bits), gains[None, :], gains.size, 100e3, p_ref,
                  float(np.mean(gains)), law, RADIO, link or RealLink(RADIO))


def test_good_channel_delivers_all_in_importance_order_then_stops() -> None:
    task = _task(np.full(50, 1e-12))
    delivered = []
    while not task.done[0]:
        step = task.step()
        assert 0.0 <= step.power_w[0] <= RADIO.p_max_w
        delivered += np.flatnonzero(step.delivered[0]).tolist()
    assert delivered == list(range(8))
    assert task.bits_sent[0] == 8 * 2000
    assert task.slots_used[0] < 50 and task.energy_j[0] > 0


def test_stop_ends_transmission_at_once_or_after_the_feedback_delay() -> None:
    task = _task(np.full(50, 1e-12), bits=20000.0)
    task.step()
    sent_before = task.packets_sent[0]
    task.stop(delayed=False)
    assert task.done[0] and task.packets_sent[0] == sent_before
    delayed = _task(np.full(50, 1e-12), bits=20000.0)
    delayed.step()
    delayed.stop()  # feedback_delay 1: one more slot goes out
    assert not delayed.done[0]
    delayed.step()
    assert delayed.done[0]


def test_window_end_bounds_the_task() -> None:
    task = _task(np.full(5, 1e-16), bits=1e6)  # far too much to send in 5 slots
    while not task.done[0]:
        task.step()
    assert task.slot == 5 and task.slots_used[0] <= 5


def test_emulated_loss_drops_packets_and_resends_them() -> None:
    lossy = RadioParams(bandwidth_hz=100e3, p_max_w=0.2, decode_snr_db=3.0, residual_loss=0.3)
    task = _task(np.full(80, 1e-12), law="constant", bits=400.0,
                 link=EmulatedLink(lossy, rng=np.random.default_rng(0)))
    delivered, lost = [], []
    while not task.done[0]:
        step = task.step()
        delivered += np.flatnonzero(step.delivered[0]).tolist()
        lost += np.flatnonzero(step.lost[0]).tolist()
    assert sorted(set(delivered)) == list(range(8))  # everything arrives eventually
    assert lost and task.packets_lost[0] == len(lost)
    assert task.packets_sent[0] == len(delivered) + len(lost)


def test_radio_energy_counts_transmitting_listening_and_the_wait_for_the_result() -> None:
    """Transmit draw in the slots the radio sends in, listening in the window's other slots
    (only the trigger's share of them with TWT), then the wait for the result: awake all along
    without power save, one wake with TWT, none after a STOP (the result came with it)."""
    from dataclasses import replace

    from enachi_ros.core.radio_power import RadioPower

    gains = np.concatenate([np.full(3, 1e-18), np.full(40, 1e-12)])  # 3 slots in outage first
    energies = {}
    for mode in ("twt", "always"):
        radio = replace(RADIO, power=RadioPower(listen_mode=mode))
        task = Uplink(np.full((1, 4), 2000.0), gains[None, :], gains.size, 100e3, 0.1, 1e-12,
                      "constant", radio, RealLink(radio), result_wait_s=0.01)
        while not task.done[0]:
            task.step()
        before = task.energy_j[0]
        extra = task.finish()[0]
        pw = radio.power
        assert task.transmit_j[0] == pytest.approx(
            pw.transmit_w(0.1) * radio.slot_s * task.slots_used[0], rel=0.5)
        assert extra == pytest.approx(pw.result_wait_s(0.01) * pw.listen_above_sleep_w)
        assert task.finish()[0] == 0.0  # once
        energies[mode] = (before, extra)
    assert energies["twt"][0] < energies["always"][0] and energies["twt"][1] < energies["always"][1]
    stopped = _task(np.full(50, 1e-12), bits=20000.0)
    stopped.step()
    stopped.stop(delayed=False)
    assert stopped.finish(True)[0] == 0.0


def test_emulated_link_needs_one_source_of_draws() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        EmulatedLink(RADIO)


# ----------------------------------------------------------------------------- the answer rule
def test_answer_rule_cases() -> None:
    common = {"theta": 0.3, "progressive": True, "partial_ok": True}
    assert edge_answer(received=3, total=8, entropy=0.5, window_over=False, **common) == WAIT
    assert edge_answer(received=3, total=8, entropy=0.2, window_over=False,
                       **common) == EARLY_STOP
    assert edge_answer(received=8, total=8, entropy=0.2, window_over=False, **common) == COMPLETE
    assert edge_answer(received=3, total=8, entropy=0.5, window_over=True,
                       **common) == WINDOW_END
    assert edge_answer(received=0, total=8, entropy=0.0, window_over=True, **common) == NO_PACKET
    assert edge_answer(received=3, total=8, entropy=0.5, window_over=True, theta=0.3,
                       progressive=True, partial_ok=False) == INCOMPLETE
    assert edge_answer(received=3, total=8, entropy=0.2, window_over=False, theta=0.3,
                       progressive=False, partial_ok=True) == WAIT  # early stop disabled
    assert edge_answer(received=4, total=8, entropy=0.9, window_over=False,
                       stop_at_packets=4, **common) == EARLY_STOP  # the oracle's target


@settings(max_examples=300, deadline=None)
@given(received=st.integers(0, 20), total=st.integers(1, 20), entropy=st.floats(0, 1),
       theta=st.floats(-1, 1), progressive=st.booleans(), over=st.booleans(),
       partial_ok=st.booleans())
def test_answer_rule_invariants(received, total, entropy, theta, progressive, over,
                                partial_ok) -> None:
    received = min(received, total)
    kind = int(edge_answer(received=received, total=total, entropy=entropy, theta=theta,
                           progressive=progressive, window_over=over, partial_ok=partial_ok))
    if received == 0:  # never an answer from no data
        assert kind in (WAIT, NO_PACKET)
    if received == total:
        assert kind == COMPLETE
    if not over:
        assert kind in (WAIT, COMPLETE, EARLY_STOP)
    else:
        assert kind != WAIT
    if kind == EARLY_STOP:
        assert progressive and theta > 0 and entropy <= theta and 0 < received < total


# ----------------------------------------------------------------------------- one path
def _robot_and_edge(i, dec, splits, traces, gains, h_est, sample, draws, orders, radio):
    """Task ``i`` as the robot and the edge run it: the transmitter's Uplink for a batch of one
    (built from the decision as the node builds it), the tail's answer rule on what arrived
    (the tail's entropy read from the traces, as in calibration), STOP after the feedback
    delay. Returns (energy, bytes, packets the answer used, early stop, status, correct, the
    channel report's packet_loss_rate as the transmitter computes it)."""
    split, k_tot = int(dec.split[i]), int(splits.num_packets[dec.split[i]])
    window = int(dec.window_slots[i]) if dec.run[i] else 0
    order = None
    if not dec.importance_order[i]:
        order = random_send_order(orders[i:i + 1], np.array([k_tot]))
    edge = EdgeBuffer(1, splits.packet_bits.shape[1])
    target = -1 if dec.stop_at_packets is None else int(dec.stop_at_packets[i])
    energy = float(splits.compute_j[split]) if dec.run[i] else 0.0
    k_stop, k_prev = 0, 0
    link = Uplink(splits.packet_bits[split][None], gains[i:i + 1], window,
                  float(dec.bandwidth_hz[i]), float(dec.p_ref[i]), float(h_est[i]),
                  dec.power_law, radio, EmulatedLink(radio, draws=draws[i:i + 1]),
                  feedback_delay=int(dec.feedback_delay_slots[i]), send_order=order,
                  decode_skip=dec.decode_skip,
                  result_wait_s=result_wait_s(splits.tail_s[split], radio))
    while not link.done[0]:
        step = link.step()
        energy += float(step.energy_j[0])
        edge.receive(step.delivered)
        k = int(edge.prefix()[0])
        if k > k_prev and not k_stop:  # the tail evaluates when the prefix grew
            answer = edge_answer(received=k, total=k_tot,
                                 entropy=traces.entropy[split, sample, k],
                                 theta=dec.entropy_threshold[i],
                                 progressive=dec.progressive[i], window_over=False,
                                 partial_ok=dec.partial_ok[i], stop_at_packets=target)
            if answer == EARLY_STOP:
                k_stop = k
                link.stop()
        k_prev = k
    energy += float(link.finish(bool(k_stop))[0])  # the wait for the result, if any
    k_final = k_stop or int(edge.prefix()[0])
    received = max(k_stop, 1) if k_stop else int(edge.count()[0])
    status = int(task_status(run=dec.run[i], transmits=splits.transmits[split],
                             window_slots=window, packets_received=received, num_packets=k_tot,
                             partial_ok=dec.partial_ok[i]))
    met = feasible(DEADLINE, splits, radio.slot_s, radio.feedback_s)[split]
    tx = bool(splits.transmits[split])
    predicted = ((k_final >= 1) and traces.correct[split, sample, k_final]) if tx else \
        traces.correct[split, sample, 0]
    correct = bool(task_correct(status, predicted, met))
    early = bool(k_stop) and bool(dec.progressive[i]) and k_final < k_tot
    loss = float(link.packets_lost[0] / max(link.packets_sent[0], 1))  # transmitter._report
    return energy, float(link.bits_sent[0]) / 8.0, k_final, early, status, correct, loss



@pytest.mark.parametrize("residual_loss", [0.0, 0.2])
def test_transmitter_path_and_simulator_give_identical_outcomes(residual_loss) -> None:
    n = 6
    cfg = parse_config({"artifact": str(synthetic_dir()), "frames": 1, "deadline_s": DEADLINE,
                        "robots": {"count": n, "budget_j": 0.01},
                        "radio": {"residual_loss": residual_loss}})
    splits, traces = load_inputs(cfg)
    radio = cfg.radio.params()
    k_max = splits.packet_bits.shape[1]
    rng = np.random.default_rng(5)
    slots = int(np.ceil(DEADLINE / radio.slot_s))
    compared = 0
    for frame in range(6):
        distances = rng.uniform(10, 80, n)
        gains = RayleighChannel(distances, cfg.channel.params(), radio.slot_s, rng).slots(slots)
        h_est = gains.mean(axis=1)
        samples = rng.integers(0, traces.correct.shape[1], n)
        draws, orders = rng.random((n, slots, k_max)), rng.random((n, k_max))
        for name in ("enachi", "random_order", "enachi_pacing", "task_dpp",
                     "progressive_fixed", "edge_only", "oracle"):
            policy = Enachi(cfg.effective_v, importance=False, name=name) \
                if name == "random_order" else make_policy(name, cfg.effective_v, cfg.theta,
                                                           cfg.fixed_split)
            hind = Hindsight(gains, np.transpose(traces.correct[:, samples, :], (1, 0, 2)))
            dec = policy.decide(FrameState(h_est, np.full(n, 0.01 * frame), np.full(n, 0.01),
                                           DEADLINE, radio.bandwidth_hz, splits, radio,
                                           distances, frame, hind if name == "oracle" else None))
            sim = run_slots([dec], splits, traces, slot_gains=gains, h_est=h_est,
                            samples=samples, loss_draws=draws, orders=orders, radio=radio,
                            deadline_s=DEADLINE)
            for i in range(n):
                energy, nbytes, k, early, status, correct, loss = _robot_and_edge(
                    i, dec, splits, traces, gains, h_est, samples[i], draws, orders, radio)
                where = f"{name}, frame {frame}, task {i}"
                assert energy == pytest.approx(sim.energy_j[i], rel=1e-12, abs=1e-15), where
                assert nbytes == sim.bytes_sent[i], where
                assert loss == sim.loss_rate[i], where  # what the delivery estimators get
                assert (k, early, status, correct) == (
                    sim.packets[i], sim.early_stop[i], sim.status[i], sim.correct[i]), where
                compared += int(dec.run[i] and splits.transmits[dec.split[i]])
    assert compared > 50  # most tasks really went through the packet level
