"""Summary maths of the recorder (pure: no ROS), and the flattening of a real InferenceResult."""

from __future__ import annotations

import pytest

from enachi_ros.tools.recording.summary import (
    OUTCOME_KINDS,
    RESULT_FIELDS,
    latency_summary,
    result_row,
    robot_summary,
    summarize,
)


def outcome(rid: str, stamp: int, kind: str, cls: int = 1, gt: int = -1, **extra) -> dict:
    row = {"robot_id": rid, "capture_stamp_ns": stamp, "outcome_kind": kind, "class_id": cls,
           "ground_truth": gt, "energy_j": 0.01, "deadline_met": True, "bytes_sent": 100,
           "latency_capture_s": 0.001, "latency_head_s": 0.002, "latency_air_s": 0.01,
           "latency_tail_s": 0.003, "latency_total_s": 0.02}
    row.update(extra)
    return row


def capture(rid: str, stamp: int, label: int) -> dict:
    return {"robot_id": rid, "stamp_ns": stamp, "label": label, "sample_index": stamp}


def test_counts_accuracy_and_missing_and_duplicate_outcomes() -> None:
    caps = [capture("r1", s, 1) for s in (1, 2, 3, 4, 5)]
    outs = [
        outcome("r1", 1, "edge_early_stop", cls=1),          # right
        outcome("r1", 2, "edge_deadline", cls=0),            # wrong
        outcome("r1", 3, "local_fallback", cls=1, energy_j=0.03, deadline_met=False),  # right
        outcome("r1", 3, "edge_deadline", cls=0),            # duplicate: the first counts
        outcome("r1", 4, "dropped", cls=-1),                 # dropped: wrong
    ]                                                        # frame 5: no outcome -> wrong
    s = robot_summary(outs, caps)
    assert s["frames_captured"] == 5
    # each frame's first outcome; with the frame without one they add up to the frames
    assert s["outcomes"] == {"edge_early_stop": 1, "edge_deadline": 1, "local_fallback": 1,
                             "dropped": 1, "skipped": 0}
    assert sum(s["outcomes"].values()) + s["frames_without_outcome"] == s["frames_captured"]
    assert s["defects"] == 2  # the frame without outcome and the duplicate
    assert s["accuracy"] == pytest.approx(1 / 5)  # frame 3 was right but late: wrong
    assert s["answered_rate"] == pytest.approx(3 / 5)
    assert s["deadline_met_rate"] == pytest.approx(2 / 3)  # over the answered frames
    assert s["unanswered"]["dropped"] == 2  # the drop and the frame without outcome
    assert s["frames_without_outcome"] == 1 and s["duplicate_outcomes"] == 1
    assert s["fallbacks"] == 1
    assert s["early_stop_rate"] == pytest.approx(1 / 4)  # over the frames' outcomes
    assert s["energy_per_task_j"] == pytest.approx((4 * 0.01 + 0.03) / 5)
    assert s["bytes_per_task"] == pytest.approx(100)


def test_live_scoring_is_the_simulators_rule() -> None:
    """A skip or a drop is never correct, whatever class the message carries; unknown kinds
    are counted as defects and scored unanswered."""
    caps = [capture("r1", s, 2) for s in (1, 2, 3, 4)]
    outs = [outcome("r1", 1, "skipped", cls=2), outcome("r1", 2, "dropped", cls=2),
            outcome("r1", 3, "unknown_9", cls=2), outcome("r1", 4, "edge_deadline", cls=2)]
    s = robot_summary(outs, caps)
    assert s["accuracy"] == pytest.approx(1 / 4)
    assert s["answered_rate"] == pytest.approx(1 / 4)
    assert s["unanswered"]["skipped"] == 1 and s["unanswered"]["dropped"] == 2
    assert s["unknown_outcome_kinds"] == 1 and s["defects"] == 1
    assert s["outcomes"]["unknown_9"] == 1  # counted under its name, never dropped
    assert sum(s["outcomes"].values()) == s["frames_captured"]


def test_ground_truth_from_outcome_wins_and_unlabelled_frames_do_not_count() -> None:
    caps = [capture("r1", 1, -1), capture("r1", 2, -1)]
    outs = [outcome("r1", 1, "edge_deadline", cls=3, gt=3), outcome("r1", 2, "edge_deadline")]
    assert robot_summary(outs, caps)["accuracy"] == 1.0
    assert robot_summary([], [capture("r1", 1, -1)])["accuracy"] is None


def test_outcome_without_capture_record_is_still_a_frame() -> None:
    s = robot_summary([outcome("r1", 9, "edge_deadline")], [])
    assert s["frames_captured"] == 1 and s["frames_without_outcome"] == 0


def test_empty_run_has_zero_counts_and_no_means() -> None:
    s = robot_summary([], [])
    assert s["frames_captured"] == 0 and s["accuracy"] is None
    assert s["energy_per_task_j"] is None and s["early_stop_rate"] is None
    assert set(s["outcomes"]) == set(OUTCOME_KINDS)


def test_summarize_splits_per_robot_and_keys_frames_by_robot() -> None:
    caps = [capture("robot1", 1, 2), capture("robot2", 1, 2)]  # same stamp, different robots
    outs = [outcome("robot1", 1, "edge_deadline", cls=2)]
    s = summarize(outs, caps, ["robot1", "robot2", "robot3"], config={"policy": "x"},
                  duration_s=2.0)
    assert s["total"]["frames_captured"] == 2 and s["total"]["frames_without_outcome"] == 1
    assert s["robots"]["robot1"]["accuracy"] == 1.0 and s["robots"]["robot2"]["accuracy"] == 0.0
    assert s["robots"]["robot3"]["frames_captured"] == 0
    assert s["outcomes_per_s"] == 0.5 and s["config"] == {"policy": "x"}
    assert set(s["total"]) == {
        "frames_captured", "outcomes", "accuracy", "answered_rate", "deadline_met_rate",
        "unanswered", "energy_per_task_j", "base_per_task_j", "controlled_share",
        "bytes_per_task", "early_stop_rate", "fallbacks", "frames_without_outcome",
        "duplicate_outcomes", "unknown_outcome_kinds", "defects"}
    assert s["input_rejects"] == {"total": 0, "by_topic": {}, "by_node": {}}
    assert s["total"]["base_per_task_j"] is None  # no robot base in this config
    # with the robots' base (idle board, dozing radio) the share the scheduler controls
    based = summarize(outs, caps, ["robot1"], config={"robot_base": {"per_frame_j": 1.0}})
    energy = based["total"]["energy_per_task_j"]
    assert based["total"]["base_per_task_j"] == 1.0
    assert based["total"]["controlled_share"] == pytest.approx(energy / (energy + 1.0))


def test_latency_summary_and_middleware_overhead() -> None:
    outs = [outcome("r", i, "edge_deadline", latency_total_s=0.02 + 0.01 * i) for i in range(3)]
    outs.append(outcome("r", 9, "dropped", latency_total_s=5.0))  # excluded
    lat = latency_summary(outs)
    assert lat["latency_total_s"]["p50"] == pytest.approx(0.03)
    assert lat["middleware_s"]["mean"] == pytest.approx(0.03 - 0.016)
    assert latency_summary([])["latency_head_s"]["mean"] is None


def test_result_row_flattens_every_inference_result_field() -> None:
    from enachi_interfaces.msg import InferenceResult

    msg = InferenceResult(robot_id="robot1", task_id=7, outcome=1, class_id=4, confidence=0.5,
                          latency_total_s=0.25, deadline_met=True)
    msg.capture_stamp.sec, msg.capture_stamp.nanosec = 3, 5
    row = result_row(msg)
    assert tuple(row) == RESULT_FIELDS or set(row) == set(RESULT_FIELDS)
    assert row["capture_stamp_ns"] == 3_000_000_005 and row["outcome_kind"] == "edge_deadline"
    assert row["confidence"] == 0.5 and row["task_id"] == 7
    fields = set(InferenceResult.get_fields_and_field_types()) - {"header", "capture_stamp"}
    assert fields <= set(RESULT_FIELDS)
