"""Stand-in for the ``launch`` package (absent from the PyPI ROS 2 wheels).

Just enough of its API for tests to evaluate our launch files and inspect what they would start:
the classes record their arguments; tests/test_launch_files.py walks the resulting tree.
"""

from __future__ import annotations

from typing import Any


class LaunchDescription:
    def __init__(self, entities: list[Any] | None = None) -> None:
        self.entities = list(entities or [])


class LaunchContext:
    def __init__(self, launch_configurations: dict[str, str] | None = None) -> None:
        self.launch_configurations = dict(launch_configurations or {})
        self.environment: dict[str, str] = {}
