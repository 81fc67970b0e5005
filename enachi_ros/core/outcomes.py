"""Outcome codes of a captured frame: the ``OUTCOME_*`` constants of ``msg/InferenceResult.msg``.

The message definition is the source of truth. This module holds the same codes as plain ints
(no ROS import: the ledger, the run summaries and the reports use them without rclpy), and
``tests/test_outcomes.py`` pins it to the message: the constants parsed from the .msg file and
those of the generated ``InferenceResult`` class must be exactly these names and values.
"""

from __future__ import annotations

from collections.abc import Mapping

EDGE_EARLY_STOP = 0  # the edge stopped transmission: entropy <= threshold
EDGE_DEADLINE = 1  # the edge answered at the window end (or with every packet) from what arrived
LOCAL_FALLBACK = 2  # the robot ran the model itself
DROPPED = 3  # no prediction; the outcome's reason says why
SKIPPED = 4  # the scheduler skipped the frame: no inference, no prediction

# Kind names (the constant's name without ``OUTCOME_``, lower case) by code, in code order.
OUTCOME_CODES: Mapping[str, int] = {
    "edge_early_stop": EDGE_EARLY_STOP,
    "edge_deadline": EDGE_DEADLINE,
    "local_fallback": LOCAL_FALLBACK,
    "dropped": DROPPED,
    "skipped": SKIPPED,
}
OUTCOME_KINDS: tuple[str, ...] = tuple(OUTCOME_CODES)  # OUTCOME_KINDS[code] is the kind name


def outcome_kind(code: int) -> str:
    """The kind name of an outcome code; ``unknown_<code>`` for a code this build lacks."""
    return OUTCOME_KINDS[code] if 0 <= code < len(OUTCOME_KINDS) else f"unknown_{code}"
