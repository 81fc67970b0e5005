"""Stand-in ``launch_ros.events.lifecycle``: ``ChangeState`` (a transition request)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# lifecycle_msgs/Transition ids the real ChangeState accepts, by the label the evaluator uses
TRANSITION_LABELS = {1: "configure", 2: "cleanup", 3: "activate", 4: "deactivate",
                     5: "shutdown", 6: "shutdown", 7: "shutdown"}


class ChangeState:
    def __init__(self, *, lifecycle_node_matcher: Callable[[Any], bool],
                 transition_id: int) -> None:
        if transition_id not in TRANSITION_LABELS:
            raise ValueError(f"ChangeState stand-in: transition_id {transition_id} not "
                             f"implemented (expected one of {sorted(TRANSITION_LABELS)})")
        self.lifecycle_node_matcher = lifecycle_node_matcher
        self.transition_id = transition_id
        self.label = TRANSITION_LABELS[transition_id]
