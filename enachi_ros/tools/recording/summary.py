"""What a run recorded, as outcome rows and a summary (pure: dicts in, dict out, no ROS).

Kept apart from the recorder node (``recorder.py``) so the summary maths is unit-tested directly
and the terminal display and plots can use it without rclpy.

How frames are counted (the honest count the "exactly one outcome" check needs): the camera
publishes one GroundTruth per captured frame, RELIABLE, with the image's stamp, for every source
(label -1 when unknown). A frame is identified by (robot_id, capture stamp); an outcome belongs to
the frame whose stamp equals its ``capture_stamp``. Images themselves are BEST_EFFORT and are not
counted.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from enachi_ros.core.outcomes import OUTCOME_KINDS, outcome_kind
from enachi_ros.core.scoring import ANSWERED, STATUS_CODE
from enachi_ros.core.scoring import summarize as score

# How each recorded outcome scores (core.scoring): edge results and local inference are answers.
_STATUS_OF_KIND = {"edge_early_stop": ANSWERED, "edge_deadline": ANSWERED,
                   "local_fallback": ANSWERED, "skipped": STATUS_CODE["skipped"],
                   "dropped": STATUS_CODE["dropped"]}
LATENCY_FIELDS: tuple[str, ...] = (
    "latency_capture_s", "latency_head_s", "latency_air_s", "latency_tail_s", "latency_total_s")
# InferenceResult fields in message order: the columns of the task log.
RESULT_FIELDS: tuple[str, ...] = (
    "stamp_ns", "robot_id", "task_id", "frame_index", "capture_stamp_ns", "outcome",
    "outcome_kind", "reason", "class_id", "label", "confidence", "entropy", "ground_truth",
    "policy", "split_index", "packets_received", "packets_total", "bytes_sent", "bytes_received",
    *LATENCY_FIELDS, "energy_j", "deadline_met",
)


def stamp_ns(stamp: Any) -> int:
    """A builtin_interfaces/Time as integer nanoseconds (exact: used as a frame key)."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def result_row(msg: Any) -> dict[str, Any]:
    """An InferenceResult as a flat dict (one task-log row)."""
    row: dict[str, Any] = {
        "stamp_ns": stamp_ns(msg.header.stamp), "capture_stamp_ns": stamp_ns(msg.capture_stamp),
        "outcome_kind": outcome_kind(msg.outcome),
    }
    for name in RESULT_FIELDS:
        if name not in row:
            value = getattr(msg, name)
            row[name] = round(float(value), 9) if isinstance(value, float) else value
    return row


def diagnostics_row(status: Any) -> dict[str, Any]:
    """A node's DiagnosticStatus as a dict: level, message, its rejection counts per topic and
    field, and its other key/values."""
    from enachi_ros.ros.diagnostics import LEVEL_NAMES, level_value, rejects_of

    level = level_value(status.level)
    return {"level": LEVEL_NAMES.get(level, str(level)), "message": status.message,
            "hardware_id": status.hardware_id, "rejects": rejects_of(status),
            "values": {kv.key: kv.value for kv in status.values
                       if not kv.key.startswith("rejected ")}}


def input_rejects(diagnostics: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Rejected input of the whole run: total, per topic and field (summed over the nodes that
    receive the topic) and per node."""
    by_topic: dict[str, Counter] = defaultdict(Counter)
    for row in diagnostics.values():
        for topic, fields in row["rejects"].items():
            by_topic[topic].update(fields)
    return {"total": sum(sum(c.values()) for c in by_topic.values()),
            "by_topic": {t: dict(sorted(c.items())) for t, c in sorted(by_topic.items())},
            "by_node": {n: r["rejects"] for n, r in sorted(diagnostics.items()) if r["rejects"]}}


def capture_row(robot_id: str, msg: Any) -> dict[str, Any]:
    """A GroundTruth (the camera's per-frame capture record) as a flat dict."""
    return {"robot_id": robot_id, "stamp_ns": stamp_ns(msg.header.stamp), "label": int(msg.label),
            "sample_index": int(msg.sample_index)}


# ----------------------------------------------------------------------------- pure maths
def _mean(values: Sequence[float]) -> float | None:
    return float(sum(values) / len(values)) if values else None


def _quantile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


def robot_summary(outcomes: Sequence[dict[str, Any]], captures: Sequence[dict[str, Any]],
                  base_per_task_j: float | None = None) -> dict[str, Any]:
    """The summary block of one robot (or of all robots: keys include robot_id).

    Scored by the one rule of ``core.scoring`` (the simulator's): a frame is answered when the
    edge produced a result from received packets or the robot ran the model; a drop, a skip or
    a frame without any outcome is unanswered and wrong; an answer after the deadline is wrong.
    - frames: the captured frames (capture records) plus, defensively, frames that only an
      outcome revealed (its capture record was missed); keyed by (robot_id, capture stamp).
    - accuracy: correct / frames with a known label (from the outcome's ``ground_truth`` or the
      capture record); ``answered_rate`` over all frames; ``deadline_met_rate`` over the
      answered frames; ``unanswered`` counts frames by reason.
    - outcomes: per kind, each frame's first outcome (unknown kinds kept under their
      ``unknown_<code>`` name); with ``frames_without_outcome`` they add up to
      ``frames_captured``. ``defects`` counts what breaks "exactly one outcome of a known kind
      per frame": frames without one, duplicates, unknown kinds.
    - energy, bytes and early stops are means over outcomes; ``None`` when there are none.
      The energy is above the robot's base (idle board, dozing radio: ``base_per_task_j`` per
      frame, when known), reported beside it with the share of the robot's energy the
      scheduler controls.
    """
    labels = {(c["robot_id"], c["stamp_ns"]): c["label"] for c in captures}
    per_frame: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for o in outcomes:
        per_frame[(o["robot_id"], o["capture_stamp_ns"])].append(o)
    frames = sorted(set(labels) | set(per_frame))
    # one outcome per frame (its first); duplicates and unknown kinds are defects, counted
    kinds = Counter(per_frame[key][0]["outcome_kind"] for key in frames if key in per_frame)

    status = np.full(len(frames), STATUS_CODE["dropped"], dtype=np.int8)
    right = np.zeros(len(frames), bool)
    met = np.zeros(len(frames), bool)
    known = np.zeros(len(frames), bool)
    for i, key in enumerate(frames):
        results = per_frame.get(key, [])
        truth = next((o["ground_truth"] for o in results if o["ground_truth"] >= 0),
                     labels.get(key, -1))
        known[i] = truth >= 0
        if results:  # duplicates: the first outcome counts
            first = results[0]
            status[i] = _STATUS_OF_KIND.get(first["outcome_kind"], STATUS_CODE["dropped"])
            right[i] = known[i] and first["class_id"] == truth
            met[i] = bool(first["deadline_met"])
    correct = (status == ANSWERED) & right & met
    scored = score(status, correct, met)
    labelled = score(status[known], correct[known], met[known])

    n = sum(kinds.values())
    without = sum(1 for key in frames if key not in per_frame)
    duplicates = sum(len(v) - 1 for v in per_frame.values())
    unknown = sum(c for k, c in kinds.items() if k not in OUTCOME_KINDS)
    return {
        "frames_captured": len(frames),
        # adds up: sum(outcomes) + frames_without_outcome == frames_captured
        "outcomes": {**{k: kinds.get(k, 0) for k in OUTCOME_KINDS},
                     **{k: c for k, c in sorted(kinds.items()) if k not in OUTCOME_KINDS}},
        "accuracy": labelled["accuracy"],
        "answered_rate": scored["answered_rate"],
        "deadline_met_rate": scored["deadline_met_rate"],
        "unanswered": scored["unanswered"],
        "energy_per_task_j": (energy := _mean([o["energy_j"] for o in outcomes])),
        "base_per_task_j": base_per_task_j,
        "controlled_share": (energy / (energy + base_per_task_j)
                             if energy is not None and base_per_task_j else None),
        "bytes_per_task": _mean([o["bytes_sent"] for o in outcomes]),
        "early_stop_rate": kinds.get("edge_early_stop", 0) / n if n else None,
        "fallbacks": kinds.get("local_fallback", 0),
        "frames_without_outcome": without,
        "duplicate_outcomes": duplicates,
        "unknown_outcome_kinds": unknown,
        "defects": without + duplicates + unknown,  # each breaks "one known outcome per frame"
    }


def latency_summary(outcomes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean / p50 / p95 of each latency field over the non-dropped outcomes, plus overhead.

    ``middleware_s`` = total - (capture + head + air + tail): what ROS 2 hand-offs, queueing and
    scheduling add on top of compute and the emulated air time.
    """
    done = [o for o in outcomes if o["outcome_kind"] not in ("dropped", "skipped")]
    series = {f: [float(o[f]) for o in done] for f in LATENCY_FIELDS}
    series["middleware_s"] = [
        float(o["latency_total_s"]) - sum(float(o[f]) for f in LATENCY_FIELDS[:-1]) for o in done]
    return {name: {"mean": _mean(v), "p50": _quantile(v, 0.5), "p95": _quantile(v, 0.95)}
            for name, v in series.items()}


def summarize(outcomes: Iterable[dict[str, Any]], captures: Iterable[dict[str, Any]],
              robot_ids: Sequence[str], config: dict[str, Any] | None = None,
              duration_s: float | None = None,
              diagnostics: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The whole ``summary.json``: ``total``, ``robots`` {id: ...}, latency, the input the nodes
    rejected (from their last /diagnostics), each node's last health and the config."""
    outcomes, captures = list(outcomes), list(captures)
    ids = list(dict.fromkeys([*robot_ids, *(o["robot_id"] for o in outcomes)]))
    base = (config or {}).get("robot_base") or {}
    per_frame = base.get("per_frame_j")
    robots = {
        rid: robot_summary([o for o in outcomes if o["robot_id"] == rid],
                           [c for c in captures if c["robot_id"] == rid], per_frame)
        for rid in ids
    }
    summary: dict[str, Any] = {
        "total": robot_summary(outcomes, captures, per_frame),
        "robots": robots,
        "latency_s": {"total": latency_summary(outcomes),
                      "robots": {rid: latency_summary([o for o in outcomes
                                                       if o["robot_id"] == rid]) for rid in ids}},
        "input_rejects": input_rejects(diagnostics or {}),
        "node_health": {name: {"level": row["level"], "message": row["message"]}
                        for name, row in sorted((diagnostics or {}).items())},
        "duration_s": duration_s,
        "outcomes_per_s": (len(outcomes) / duration_s) if duration_s else None,
        "config": dict(config or {}),
    }
    return summary
