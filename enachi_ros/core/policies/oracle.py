"""The hindsight oracle: knows each frame's channel and every sample's outcome per split and
packet count (``Hindsight``); an upper reference, not a deployable policy."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from enachi_ros.core.deadline import feasible, window_slots
from enachi_ros.core.policies.interface import (
    Decisions,
    FrameState,
    Policy,
    make_decisions,
)
from enachi_ros.core.rates import slot_capacity_bits
from enachi_ros.core.solver import energy_price_floor, result_wait_s, solve_outer


class Oracle(Policy):
    """Hindsight upper bound: per robot and frame it knows the slot gains and whether the drawn
    sample is classified correctly after each prefix of k >= 1 packets (it gets no credit for a
    guess from nothing: the same scoring rule as every policy). Bandwidth comes from the outer
    solver (with its own queues); per robot it then picks the split and a constant power (from
    a grid, skipping undecodable slots) maximizing ``V/N * correct - Q * E``, or skips the task
    when nothing beats doing nothing, and stops exactly at the first prefix that is correct."""

    name = "oracle"
    uses_queues = True

    def __init__(self, v: float = 1.0, power_levels: int = 8) -> None:
        self.v, self.levels = v, power_levels

    def decide(self, state: FrameState) -> Decisions:
        if state.hindsight is None:
            raise ValueError("hindsight: the oracle needs FrameState.hindsight")
        st, radio, n = state.splits, state.radio, state.n_robots
        w = solve_outer(state.gains, state.queues, self.v, state.bandwidth_hz, st,
                        radio=radio, deadline_s=state.deadline_s, allowed=st.network,
                        energy_scale_j=state.energy_scale_j,
                        delivery=state.delivery_rate).bandwidth_hz
        if not np.any(w > 0):  # everyone skipped or went device-only: give it equal shares
            w = np.full(n, state.bandwidth_hz / n)
        slots = window_slots(np.full(n, state.deadline_s), st, radio.slot_s, radio.feedback_s)
        powers = radio.p_max_w * np.logspace(-2, 0, self.levels)
        split, p, k_stop, run = _oracle_choice(state, w, slots, powers, self.v)
        dec = make_decisions(self.name, state, split, w, p, power_law="constant", decode_skip=True,
                         progressive=False, partial_ok=True, run=run)
        return replace(dec, stop_at_packets=np.where(run, k_stop, 0),
                       feedback_delay_slots=np.zeros(n, int))


def _oracle_choice(state: FrameState, w, slots, powers, v):
    """Vectorized hindsight search over (robot, split, power): returns split, power, stop k
    and whether to run at all."""
    st, radio, n = state.splits, state.radio, state.n_robots
    hs = state.hindsight
    t_max = hs.slot_gains.shape[1]
    h = hs.slot_gains[:, None, None, :]  # [N, 1, 1, T]
    ww = w[:, None, None, None]
    p = powers[None, None, :, None]
    cap, lost = slot_capacity_bits(ww, p, h, radio)
    good = ~lost & (ww > 0) & (p > 0) & (cap > 0)
    cap = np.where(good, cap, 0.0)
    on_window = np.arange(t_max)[None, None, None, :] < slots[:, :, None, None]
    cum = np.cumsum(cap * on_window, axis=-1)  # [N, S, P, T]
    pk_cum = np.cumsum(st.packet_bits, axis=1)  # [S, K]
    k_max = st.packet_bits.shape[1]
    # packets fully delivered by the end of each slot
    k_t = (cum[..., None] >= pk_cum[None, :, None, None, :] - 1e-6).sum(-1)
    k_t = np.minimum(k_t, st.num_packets[None, :, None, None])
    correct = hs.correct[:, :, : k_max + 1]  # [N, S, K+1]
    k_idx = np.arange(k_max + 1)[None, None, :]
    usable = (k_idx >= 1) & (k_idx <= st.num_packets[None, :, None])  # no credit for k = 0
    first_ok = np.where(correct & usable, k_idx, k_max + 1).min(-1)  # [N, S]
    reach = k_t >= first_ok[:, :, None, None]  # [N, S, P, T]
    reached = reach.any(-1)
    t_stop = np.where(reached, reach.argmax(-1), np.maximum(slots[:, :, None] - 1, 0))
    used = np.cumsum(good * on_window, axis=-1)
    used_slots = np.take_along_axis(used, t_stop[..., None], axis=-1)[..., 0]
    ok_split = feasible(np.full(n, state.deadline_s), st, radio.slot_s, radio.feedback_s) \
        & st.network  # the oracle splits the network, like ENACHI
    tx = st.transmits[None, :, None]
    win = np.where(tx, reached, correct[:, :, 0][:, :, None]) & ok_split[:, :, None]
    pw, tau = radio.power, radio.slot_s
    tx_slots = np.where(reached, used_slots, used[..., -1])  # slots it transmits in
    elapsed = np.where(reached, t_stop + 1, slots[:, :, None])  # window slots until it stops
    wait = pw.result_wait_s(result_wait_s(st.tail_s, radio))[None, :, None]
    radio_j = (tx_slots * pw.transmit_w(powers)[None, None, :] * tau
               + np.maximum(elapsed - tx_slots, 0) * pw.idle_slot_w(tau) * tau
               + np.where(tx_slots > 0, wait * pw.listen_above_sleep_w, 0.0))
    energy = st.compute_j[None, :, None] + np.where(tx, radio_j, 0.0)
    price = state.queues + energy_price_floor(v, n, state.energy_scale_j)
    score = v / n * win - price[:, None, None] * energy
    score = np.where(ok_split[:, :, None], score, -np.inf)
    score[:, ~st.transmits, 1:] = -np.inf  # device-only: one option (power irrelevant)
    flat = score.reshape(n, -1)
    best = flat.argmax(axis=1)
    run = flat[np.arange(n), best] > 0  # skipping scores 0
    split, pi = np.divmod(best, powers.size)
    k_stop = np.where(st.transmits[split], first_ok[np.arange(n), split], 0)
    return split, powers[pi], k_stop, run
