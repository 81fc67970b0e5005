"""Stand-in ``launch.actions``: records constructor arguments."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


class DeclareLaunchArgument:
    def __init__(self, name: str, default_value: str | None = None, description: str = "") -> None:
        self.name, self.default_value, self.description = name, default_value, description


class OpaqueFunction:
    def __init__(self, function: Callable[..., list[Any]]) -> None:
        self.function = function


class SetEnvironmentVariable:
    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value


class IncludeLaunchDescription:
    def __init__(self, source: Any, launch_arguments: Iterable[tuple[str, str]] = ()) -> None:
        self.source = source
        self.launch_arguments = list(launch_arguments)


class EmitEvent:
    """Emits ``event`` when executed (here: the evaluator applies it)."""

    def __init__(self, *, event: Any) -> None:
        self.event = event


class RegisterEventHandler:
    def __init__(self, event_handler: Any) -> None:
        self.event_handler = event_handler
