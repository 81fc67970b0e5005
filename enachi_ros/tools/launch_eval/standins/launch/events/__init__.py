"""Stand-in ``launch.events``: only ``matches_action``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def matches_action(target_action: Any) -> Callable[[Any], bool]:
    """A matcher for events about ``target_action`` (the real one compares identity too)."""
    def matcher(action: Any) -> bool:
        return action is target_action

    matcher.target_action = target_action  # type: ignore[attr-defined]
    return matcher
