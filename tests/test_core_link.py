"""The robot-side packet level (core.link) obeys the protocol: power limits, stop, window, loss."""

from __future__ import annotations

import numpy as np

from enachi_ros.core.link import EmulatedLoss, LinkTask, NoEmulatedLoss
from enachi_ros.core.params import RadioParams

RADIO = RadioParams(bandwidth_hz=100e3, p_max_w=0.2, decode_snr_db=3.0, slot_s=1e-3)


def _task(gains, law="tracking", loss=None, bits=2000.0, k=8, p_ref=0.1) -> LinkTask:
    return LinkTask(
        np.full(k, bits),
        np.asarray(gains, float),
        100e3,
        p_ref,
        float(np.mean(gains)),
        law,
        RADIO,
        loss or NoEmulatedLoss(RADIO),
    )


def test_good_channel_delivers_all_in_importance_order_then_stops() -> None:
    task = _task(np.full(50, 1e-12))
    delivered = []
    while not task.done:
        step = task.step()
        assert 0.0 <= step.power_w <= RADIO.p_max_w
        delivered += step.delivered
    assert delivered == list(range(8))
    assert task.bytes_sent == 8 * 2000 // 8
    assert task.slots_used < 50 and task.energy_j > 0


def test_stop_ends_transmission_at_once() -> None:
    task = _task(np.full(50, 1e-12), bits=20000.0)
    task.step()
    sent_before = task.packets_sent
    task.stop()
    assert task.done and task.packets_sent == sent_before


def test_window_end_bounds_the_task() -> None:
    task = _task(np.full(5, 1e-16), bits=1e6)  # far too much to send in 5 slots
    while not task.done:
        task.step()
    assert task.slot == 5 and task.slots_used <= 5


def test_emulated_loss_drops_packets_and_resends_them() -> None:
    lossy = RadioParams(bandwidth_hz=100e3, p_max_w=0.2, decode_snr_db=3.0, residual_loss=0.3)
    task = _task(
        np.full(80, 1e-12),
        law="constant",
        bits=400.0,
        loss=EmulatedLoss(lossy, np.random.default_rng(0)),
    )
    delivered, lost = [], []
    while not task.done:
        step = task.step()
        delivered += step.delivered
        lost += step.lost
    assert sorted(set(delivered)) == list(range(8))  # everything arrives eventually
    assert lost and task.packets_lost == len(lost)
    assert task.packets_sent == len(delivered) + len(lost)
