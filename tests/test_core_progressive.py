"""Packet level: fractional bit carry, importance order, re-sends of lost packets, STOP with
feedback delay, and the window end."""

from __future__ import annotations

import numpy as np
import pytest

from enachi_ros.core.progressive import (
    EdgeBuffer,
    ProgressiveSender,
    feedback_delay_slots,
    random_send_order,
    stop_rule,
)


def drive(sender: ProgressiveSender, capacity: float, slots: int, lose=lambda t, s: None):
    """Run ``slots`` slots; returns, per slot, the packet indices sent (batch of one)."""
    log = []
    for t in range(slots):
        sent, _ = sender.send(t, np.array([capacity]))
        lost = np.zeros_like(sent)
        idx = lose(t, sent)
        if idx is not None:
            lost[0, idx] = True
        sender.outcome(t, sent, lost & sent)
        log.append(list(np.flatnonzero(sent[0])))
    return log


def test_fractional_carry_spans_slots() -> None:
    sender = ProgressiveSender(np.full((1, 4), 100.0), window_slots=20, feedback_delay=1)
    log = drive(sender, 40.0, 12)  # 2.5 slots per packet
    sent_at = [t for t, pk in enumerate(log) for _ in pk]
    assert [p for pk in log for p in pk] == [0, 1, 2, 3]  # importance order
    assert sent_at == [2, 4, 7, 9]
    assert sender.bits_sent[0] == 400


def test_used_fraction_of_last_slot() -> None:
    sender = ProgressiveSender(np.full((1, 1), 100.0), window_slots=5)
    sent, used = sender.send(0, np.array([400.0]))
    assert sent[0, 0] and np.isclose(used[0], 0.25)
    sender.outcome(0, sent, np.zeros_like(sent))
    assert not sender.active(1)[0]


def test_lost_packet_is_resent_first_after_feedback_delay() -> None:
    sender = ProgressiveSender(np.full((1, 6), 100.0), window_slots=20, feedback_delay=2)
    log = drive(sender, 100.0, 8, lose=lambda t, s: 0 if t == 0 else None)
    # packet 0 lost in slot 0; known at slot 0 + 1 + 2 = 3, re-sent before packet 3
    assert log[:5] == [[0], [1], [2], [0], [3]]


def test_stop_with_feedback_delay_and_window_end() -> None:
    sender = ProgressiveSender(np.full((2, 10), 100.0), window_slots=[10, 4], feedback_delay=2)
    for t in range(10):
        sent, _ = sender.send(t, np.array([100.0, 100.0]))
        sender.outcome(t, sent, np.zeros_like(sent))
        if t == 1:
            sender.stop(t + 1, np.array([True, False]))  # STOP decided after slot 1
    # robot 0 keeps sending during the 2 slots of delay (slots 2 and 3), then stops
    assert sender.packets_sent[0] == 4
    assert sender.packets_sent[1] == 4  # robot 1: window of 4 slots
    assert sender.done(10).all()


def test_random_order_keeps_padding_last_and_edge_prefix() -> None:
    order = random_send_order(np.random.default_rng(0).random((3, 5)), np.array([5, 3, 0]))
    assert sorted(order[0]) == list(range(5))
    assert sorted(order[1][:3]) == [0, 1, 2] and list(order[1][3:]) == [3, 4]
    edge = EdgeBuffer(2, 4)
    edge.receive(np.array([[True, False, True, False], [True, True, False, False]]))
    assert list(edge.prefix()) == [1, 2] and list(edge.count()) == [2, 2]


def test_stop_rule_and_delay() -> None:
    assert list(stop_rule([0.1, 0.3, 0.1], [0.2, 0.2, 0.0], True)) == [True, False, False]
    assert list(feedback_delay_slots(np.array([0.0, 1.5e-3]), 1e-3, 1e-3)) == [1, 3]


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="packet_bits"):
        ProgressiveSender(np.array([[-1.0]]), 3)
    with pytest.raises(ValueError, match="send_order"):
        ProgressiveSender(np.ones((1, 3)), 3, send_order=np.zeros((2, 3), int))
