"""Stand-in ``launch_ros.actions``: a Node records what it would run."""

from __future__ import annotations

from typing import Any


class Node:
    def __init__(
        self,
        *,
        package: str,
        executable: str,
        name: str | None = None,
        namespace: str | None = None,
        parameters: list[Any] | None = None,
        arguments: list[str] | None = None,
        remappings: list[tuple[str, str]] | None = None,
        output: str = "log",
        **kwargs: Any,
    ) -> None:
        self.package, self.executable, self.name, self.namespace = (
            package,
            executable,
            name,
            namespace,
        )
        self.parameters = list(parameters or [])
        self.arguments = list(arguments or [])
        self.remappings = list(remappings or [])
        self.output = output
        self.extra = kwargs
