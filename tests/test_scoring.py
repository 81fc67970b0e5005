"""The one scoring rule (core.scoring): no credit for predictions made from no data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from enachi_ros.core.scoring import (
    ANSWERED,
    STATUS_CODE,
    STATUSES,
    summarize,
    task_correct,
    task_status,
)

N = st.integers(1, 60)


@st.composite
def tasks(draw):
    n = draw(N)
    arr = lambda dtype, elements: draw(hnp.arrays(dtype, n, elements=elements))  # noqa: E731
    num = arr(np.int16, st.integers(0, 20))
    return {
        "run": arr(bool, st.booleans()),
        "transmits": arr(bool, st.booleans()),
        "window_slots": arr(np.int16, st.integers(0, 50)),
        "packets_received": np.minimum(arr(np.int16, st.integers(0, 20)), num),
        "num_packets": num,
        "partial_ok": arr(bool, st.booleans()),
    }, arr(bool, st.booleans()), arr(bool, st.booleans())


@settings(max_examples=200, deadline=None)
@given(tasks())
def test_an_unanswered_task_is_never_correct(case) -> None:
    kw, prediction, met = case
    status = task_status(**kw)
    correct = task_correct(status, prediction, met)
    assert not np.any(correct & (status != ANSWERED))
    # the answered tasks are exactly: the robot ran the model, or the edge got >= 1 packet
    # (all of them for a full transmission) in a window of >= 1 slot; skipped never answers
    tx = kw["transmits"]
    got = kw["packets_received"]
    complete = got >= kw["num_packets"]
    edge_ok = (kw["window_slots"] > 0) & (got >= 1) & (kw["partial_ok"] | complete)
    assert np.array_equal(status == ANSWERED, kw["run"] & np.where(tx, edge_ok, True))
    s = summarize(status, correct, met)
    assert s["tasks"] == status.size
    assert s["accuracy"] <= s["answered_rate"] + 1e-12
    assert s["answered_rate"] * s["tasks"] + sum(s["unanswered"].values()) == pytest.approx(
        status.size)
    # a correct task was answered by its deadline
    assert np.all(met[correct])


def test_each_unanswered_task_carries_one_reason() -> None:
    status = task_status(run=np.array([False, True, True, True, True, True]),
                         transmits=np.array([True, True, True, True, False, True]),
                         window_slots=np.array([5, 0, 5, 5, 0, 5]),
                         packets_received=np.array([3, 0, 0, 2, 0, 1]),
                         num_packets=np.array([3, 3, 3, 3, 0, 3]),
                         partial_ok=np.array([True, True, True, False, False, True]))
    assert [STATUSES[c] for c in status] == ["skipped", "no_window", "no_packet", "incomplete",
                                             "answered", "answered"]
    s = summarize(status, task_correct(status, np.ones(6, bool), np.ones(6, bool)),
                  np.array([1, 1, 1, 1, 0, 1], bool))
    assert s["accuracy"] == pytest.approx(2 / 6)
    assert s["answered_rate"] == pytest.approx(2 / 6)
    assert s["deadline_met_rate"] == pytest.approx(1 / 2)  # over answered tasks only
    assert s["unanswered"] == {"skipped": 1, "no_window": 1, "no_packet": 1, "incomplete": 1,
                               "dropped": 0}


def test_summary_refuses_correct_unanswered_tasks_and_handles_no_tasks() -> None:
    with pytest.raises(ValueError, match="unanswered"):
        summarize(np.array([STATUS_CODE["no_packet"]]), np.array([True]), np.array([True]))
    empty = summarize(np.array([], int), np.array([], bool), np.array([], bool))
    assert empty["accuracy"] is None and empty["deadline_met_rate"] is None
