"""Stand-in ``launch_ros.actions``: a Node records what it would run.

Only the arguments below are implemented; any other keyword argument of the real Node
(``condition=``, ``respawn=``, ``ros_arguments=``...) is refused by name, so a launch file
cannot behave differently under ``ros2 launch`` than in the tests without them failing.
``output`` only selects where the real launch sends the node's output; it changes nothing here.
"""

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
        additional_env: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(f"launch_ros.actions.Node stand-in: {sorted(kwargs)} not implemented "
                            "(it evaluates package, executable, name, namespace, parameters, "
                            "arguments, remappings, output and additional_env only)")
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
        self.additional_env = dict(additional_env or {})  # this node's process only


class LifecycleNode(Node):
    """A managed node: ``name`` and ``namespace`` are required, as in the real action (it finds
    the node's lifecycle services by them). ``autostart=`` exists only from launch_ros 0.26.7
    (Jazzy) on, so it is refused here like any other keyword not implemented."""

    def __init__(self, *, name: str, namespace: str, **kwargs: Any) -> None:
        super().__init__(name=name, namespace=namespace, **kwargs)
