"""Stand-in ``launch_ros.event_handlers``: ``OnStateTransition`` for one lifecycle node.

Implemented: ``target_lifecycle_node``, ``start_state``, ``goal_state`` and ``entities``; any
other keyword of the real handler (``transition=``, ``matcher=``, ``handle_once=``...) is
refused by name.
"""

from __future__ import annotations

from typing import Any


class OnStateTransition:
    def __init__(self, *, target_lifecycle_node: Any, entities: list[Any],
                 start_state: str | None = None, goal_state: str | None = None,
                 **kwargs: Any) -> None:
        from ..actions import LifecycleNode

        if kwargs:
            raise TypeError(f"OnStateTransition stand-in: {sorted(kwargs)} not implemented "
                            "(it evaluates target_lifecycle_node, start_state, goal_state and "
                            "entities only)")
        if not isinstance(target_lifecycle_node, LifecycleNode):
            raise RuntimeError("OnStateTransition: target_lifecycle_node must be a "
                               "LifecycleNode")
        self.target_lifecycle_node = target_lifecycle_node
        self.start_state, self.goal_state = start_state, goal_state
        self.entities = list(entities)

    def matches(self, node: Any, start: str, goal: str) -> bool:
        return (node is self.target_lifecycle_node
                and self.start_state in (None, start) and self.goal_state in (None, goal))
