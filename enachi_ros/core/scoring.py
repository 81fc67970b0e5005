"""The one scoring rule of every evaluation: simulator, live recorder summary and reports.

ENACHI.md section 7. A task is *answered* when the edge produced its result from at least one
received packet, or the robot ran the model itself. Otherwise it is *unanswered*: it counts as
wrong for every policy (the hindsight oracle included), whatever a prediction from the
all-mean-fill features would have said, and it carries its reason. An answered task is correct
only if its prediction is right *and* it was answered by the deadline.

Why a rule of its own: the earlier simulator scored the edge's guess from zero packets (column
0 of the traces), which credited chance-level predictions made from no data and rewarded
policies for sending nothing. Defining the rule once here and calling it from the simulator, the
live summary and the reports keeps every figure comparable.

Metrics (``summarize``): accuracy = correct / all tasks, answered rate, deadline-met rate over
answered tasks, and the count of unanswered tasks per reason.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

ANSWERED = 0
# Reasons a task is unanswered, by status code (index). Every unanswered task has exactly one.
STATUSES: tuple[str, ...] = (
    "answered",
    "skipped",  # the policy chose not to run the task (energy budget, nothing deliverable)
    "no_window",  # the split leaves no transmission slot before the deadline
    "no_packet",  # the split transmits but no packet reached the edge
    "incomplete",  # full transmission: the edge needs every packet and some were missing
    "dropped",  # live: no result was recorded for the frame (the outcome's reason says why)
)
STATUS_CODE: Mapping[str, int] = {name: i for i, name in enumerate(STATUSES)}


def task_status(
    *,
    run: np.ndarray,
    transmits: np.ndarray,
    window_slots: np.ndarray,
    packets_received: np.ndarray,
    num_packets: np.ndarray,
    partial_ok: np.ndarray,
) -> np.ndarray:
    """Status code per task (``STATUSES``) from what happened at the packet level.

    ``run``: the policy ran the task (False = skipped); ``transmits``: its split sends features
    (False = the robot runs the whole model); ``packets_received``: distinct packets the edge
    holds; ``partial_ok``: the edge answers from partial features (else it needs all of them).
    A device-only task is always answered (late if the model is slower than the deadline).
    """
    run = np.asarray(run, bool)
    tx = np.asarray(transmits, bool)
    got = np.asarray(packets_received)
    status = np.full(np.broadcast(run, tx, got).shape, ANSWERED, dtype=np.int8)
    incomplete = ~np.asarray(partial_ok, bool) & (got < np.asarray(num_packets))
    status = np.where(tx & incomplete, STATUS_CODE["incomplete"], status)
    status = np.where(tx & (got <= 0), STATUS_CODE["no_packet"], status)
    status = np.where(tx & (np.asarray(window_slots) <= 0), STATUS_CODE["no_window"], status)
    return np.where(~run, STATUS_CODE["skipped"], status).astype(np.int8)


def task_correct(status: np.ndarray, prediction_correct: np.ndarray,
                 deadline_met: np.ndarray) -> np.ndarray:
    """Correct = answered, right prediction and answered by the deadline."""
    return ((np.asarray(status) == ANSWERED) & np.asarray(prediction_correct, bool)
            & np.asarray(deadline_met, bool))


def summarize(status: np.ndarray, correct: np.ndarray, deadline_met: np.ndarray) -> dict:
    """Accuracy over all tasks, answered rate, deadline-met rate over answered tasks, and the
    unanswered tasks by reason. ``correct`` must come from :func:`task_correct` (an unanswered
    task is never correct); rates are ``None`` when there is nothing to average."""
    status = np.asarray(status).ravel()
    correct = np.asarray(correct, bool).ravel()
    answered = status == ANSWERED
    if np.any(correct & ~answered):
        raise ValueError("correct: an unanswered task cannot be correct (use task_correct)")
    n, n_answered = status.size, int(answered.sum())
    return {
        "tasks": int(n),
        "accuracy": float(correct.sum()) / n if n else None,
        "answered_rate": n_answered / n if n else None,
        "deadline_met_rate": (float((np.asarray(deadline_met, bool).ravel() & answered).sum())
                              / n_answered if n_answered else None),
        "unanswered": {name: int((status == code).sum())
                       for code, name in enumerate(STATUSES) if code != ANSWERED},
    }
