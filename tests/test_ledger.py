"""The robot's task ledger closes every captured frame exactly once."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from enachi_ros.core.ledger import Ledger, Task
from enachi_ros.core.outcomes import DROPPED, EDGE_EARLY_STOP


def _result(outcome: int = EDGE_EARLY_STOP) -> dict:
    return {"outcome": outcome, "reason": "r", "class_id": 1}


def test_result_waits_for_energy_then_closes() -> None:
    ledger = Ledger(grace_s=0.1)
    ledger.capture(Task(0, capture_s=0.0, deadline_s=1.0))
    ledger.on_result(0, _result(), now_s=0.5)
    assert ledger.due(0.6) == []  # energy report not in yet, still within the deadline
    ledger.on_energy(0, {"total_energy_j": 0.01})
    (closed,) = ledger.due(0.6)
    assert closed[0].task_id == 0 and closed[1] == EDGE_EARLY_STOP


def test_no_result_is_dropped_with_reason_after_grace() -> None:
    ledger = Ledger(grace_s=0.1)
    ledger.capture(Task(7, capture_s=0.0, deadline_s=1.0))
    assert ledger.due(1.05) == []
    ((task, kind, reason),) = ledger.due(1.2)
    assert task.task_id == 7 and kind == DROPPED and "no edge result" in reason
    ledger.on_result(7, _result(), now_s=1.3)
    assert ledger.late_results == 1 and ledger.due(5.0) == []


def test_capturing_a_task_twice_is_refused() -> None:
    ledger = Ledger()
    ledger.capture(Task(1, 0.0, 1.0))
    try:
        ledger.capture(Task(1, 0.0, 1.0))
    except ValueError as exc:
        assert "task_id" in str(exc)
    else:
        raise AssertionError("duplicate capture accepted")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.floats(0, 2)), min_size=1, max_size=30))
def test_every_task_closes_exactly_once(events: list[tuple[bool, bool, float]]) -> None:
    ledger = Ledger(grace_s=0.2)
    for i, (has_result, has_energy, at) in enumerate(events):
        ledger.capture(Task(i, capture_s=0.0, deadline_s=1.0))
        if has_result:
            ledger.on_result(i, _result(), now_s=at)
            ledger.on_result(i, _result(), now_s=at)  # duplicate: ignored, counted
        if has_energy:
            ledger.on_energy(i, {"total_energy_j": 0.0, "packets_sent": 3})
    closed = [t.task_id for t, _, _ in ledger.due(0.5)] + [
        t.task_id for t, _, _ in ledger.due(10.0)
    ]
    assert sorted(closed) == list(range(len(events)))
    assert not ledger.open
    assert ledger.duplicate_results == sum(1 for e in events if e[0])
