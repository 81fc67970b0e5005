"""Stand-in ``launch.substitutions``."""

from __future__ import annotations

from typing import Any


class LaunchConfiguration:
    def __init__(self, name: str) -> None:
        self.name = name

    def perform(self, context: Any) -> str:
        if self.name not in context.launch_configurations:
            raise KeyError(f"launch configuration {self.name!r} is not set")
        return context.launch_configurations[self.name]
