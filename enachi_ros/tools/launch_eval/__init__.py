"""Evaluate our launch files without ``ros2 launch`` (absent from the PyPI ROS 2 wheels).

The launch files are loaded against small stand-in ``launch`` / ``launch_ros`` modules
(``standins/``) and walked into a flat list of :class:`NodeSpec`: executable, namespace, name,
parameters and environment. ``enachi bringup`` runs exactly that list, so the configuration that
runs here is the one ``ros2 launch`` runs on a robot; the tests inspect the same list.

Managed nodes (``LifecycleNode``): the evaluator also plays the launch file's lifecycle events
(``EmitEvent(ChangeState)`` and ``OnStateTransition`` handlers) on a model of each node's state
machine, in the order launch processes them (first in, first out), and records on each spec the
transitions launch would drive, each with its *round*: 0 for the events the file emits itself,
r + 1 for those a handler emits when a round-r transition completes. Bringup drives the same
transitions round by round, so it starts the fleet in the order the launch file describes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STANDINS = Path(__file__).resolve().parent / "standins"
_MODULES = ("launch", "launch_ros")
_DEPENDENT = "enachi_ros.ros.launch_args"  # imports launch: must see the same (stand-in) classes


@dataclass
class NodeSpec:
    """One node a launch file would start."""

    package: str
    executable: str
    name: str
    namespace: str
    parameter_files: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    arguments: list[str] = field(default_factory=list)
    remappings: list[tuple[str, str]] = field(default_factory=list)
    managed: bool = False  # a lifecycle node
    transitions: list[tuple[int, str]] = field(default_factory=list)  # (round, label)

    @property
    def fqn(self) -> str:
        return f"/{self.namespace.strip('/')}/{self.name}" if self.namespace else f"/{self.name}"

    def ros_args(self) -> list[str]:
        """Command-line ``--ros-args`` equivalent of this spec (for a subprocess)."""
        args = ["--ros-args", "-r", f"__node:={self.name}"]
        if self.namespace:
            args += ["-r", f"__ns:=/{self.namespace.strip('/')}"]
        for path in self.parameter_files:
            args += ["--params-file", path]
        for key, value in self.parameters.items():
            args += ["-p", f"{key}:={_yaml_scalar(value)}"]
        for src, dst in self.remappings:
            args += ["-r", f"{src}:={dst}"]
        extra = self.arguments[1:] if self.arguments[:1] == ["--ros-args"] else self.arguments
        return args + extra


def _yaml_scalar(value: Any) -> str:
    """A parameter value as rcl parses it from ``-p name:=value`` (YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_yaml_scalar(v) for v in value) + "]"
    return repr(value)


@contextlib.contextmanager
def _standin_modules() -> Iterator[None]:
    saved = {k: v for k, v in sys.modules.items() if k.split(".")[0] in _MODULES or k == _DEPENDENT}
    for key in saved:
        del sys.modules[key]
    sys.path.insert(0, str(STANDINS))
    try:
        yield
    finally:
        sys.path.remove(str(STANDINS))
        for key in [k for k in sys.modules if k.split(".")[0] in _MODULES or k == _DEPENDENT]:
            del sys.modules[key]
        sys.modules.update(saved)


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"_launch_{path.stem.replace('.', '_')}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"launch file not loadable: {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def declared_arguments(path: str | Path) -> dict[str, str | None]:
    """Launch arguments a file declares, with their defaults."""
    with _standin_modules():
        description = _load(Path(path)).generate_launch_description()
        from launch.actions import DeclareLaunchArgument

        return {
            e.name: e.default_value
            for e in description.entities
            if isinstance(e, DeclareLaunchArgument)
        }


# the lifecycle state machine: transition label -> (allowed from, intermediate, goal)
_LIFECYCLE = {
    "configure": (("unconfigured",), "configuring", "inactive"),
    "activate": (("inactive",), "activating", "active"),
    "deactivate": (("active",), "deactivating", "inactive"),
    "cleanup": (("inactive",), "cleaningup", "unconfigured"),
    "shutdown": (("unconfigured", "inactive", "active"), "shuttingdown", "finalized"),
}


@dataclass
class _Events:
    """Lifecycle events of one evaluation (shared with included files)."""

    queue: list[tuple[int, Any]] = field(default_factory=list)  # (round, ChangeState)
    handlers: list[Any] = field(default_factory=list)
    nodes: list[Any] = field(default_factory=list)  # the LifecycleNode actions
    specs: dict[int, NodeSpec] = field(default_factory=dict)  # id(LifecycleNode) -> spec
    states: dict[int, str] = field(default_factory=dict)

    def play(self, path: Path) -> None:
        from launch.actions import EmitEvent

        while self.queue:
            round_, event = self.queue.pop(0)
            nodes = [n for n in self.nodes if event.lifecycle_node_matcher(n)]
            if not nodes:
                raise ValueError(f"{path.name}: a ChangeState matches no LifecycleNode")
            for node in nodes:
                allowed, middle, goal = _LIFECYCLE[event.label]
                state = self.states[id(node)]
                if state not in allowed:
                    raise ValueError(f"{path.name}: {self.specs[id(node)].fqn}: cannot "
                                     f"{event.label} from state {state}")
                self.specs[id(node)].transitions.append((round_, event.label))
                for start, end in ((state, middle), (middle, goal)):
                    self.states[id(node)] = end
                    for handler in self.handlers:
                        if handler.matches(node, start, end):
                            for entity in handler.entities:
                                if not isinstance(entity, EmitEvent):
                                    raise TypeError(f"{path.name}: OnStateTransition entity "
                                                    f"{type(entity).__name__} not supported")
                                self.queue.append((round_ + 1, entity.event))


def evaluate(path: str | Path, arguments: dict[str, str] | None = None) -> list[NodeSpec]:
    """The nodes ``ros2 launch <path> k:=v ...`` would start, in order, with the lifecycle
    transitions it would drive."""
    with _standin_modules():
        events = _Events()
        specs = _evaluate(Path(path), dict(arguments or {}), {}, events)
        events.play(Path(path))
        return specs


def _evaluate(path: Path, arguments: dict[str, str], environment: dict[str, str],
              events: _Events) -> list[NodeSpec]:
    from launch.actions import (
        DeclareLaunchArgument,
        EmitEvent,
        IncludeLaunchDescription,
        OpaqueFunction,
        RegisterEventHandler,
        SetEnvironmentVariable,
    )
    from launch_ros.actions import LifecycleNode, Node
    from launch_ros.events.lifecycle import ChangeState

    from launch import LaunchContext
    description = _load(path).generate_launch_description()
    context = LaunchContext()
    declared = [e for e in description.entities if isinstance(e, DeclareLaunchArgument)]
    names = {d.name for d in declared}
    unknown = sorted(set(arguments) - names)
    if unknown:
        raise ValueError(
            f"{path.name}: unknown launch argument(s) {unknown}; declared: {sorted(names)}"
        )
    for decl in declared:
        if decl.name in arguments:
            context.launch_configurations[decl.name] = str(arguments[decl.name])
        elif decl.default_value is not None:
            context.launch_configurations[decl.name] = decl.default_value
        else:
            raise ValueError(f"{path.name}: launch argument {decl.name!r} is required")

    env = dict(environment)
    specs: list[NodeSpec] = []
    pending = [e for e in description.entities if not isinstance(e, DeclareLaunchArgument)]
    while pending:
        entity = pending.pop(0)
        if isinstance(entity, OpaqueFunction):
            pending[:0] = list(entity.function(context) or [])
        elif isinstance(entity, SetEnvironmentVariable):
            env[entity.name] = entity.value
        elif isinstance(entity, IncludeLaunchDescription):
            child_args = {str(k): str(v) for k, v in entity.launch_arguments}
            specs += _evaluate(Path(entity.source.launch_file_path), child_args, env, events)
        elif isinstance(entity, RegisterEventHandler):
            events.handlers.append(entity.event_handler)
        elif isinstance(entity, EmitEvent):
            if not isinstance(entity.event, ChangeState):
                raise TypeError(f"{path.name}: EmitEvent of {type(entity.event).__name__} "
                                "not supported")
            events.queue.append((0, entity.event))
        elif isinstance(entity, Node):
            files = [str(p) for p in entity.parameters if isinstance(p, str | Path)]
            params: dict[str, Any] = {}
            for p in entity.parameters:
                if isinstance(p, dict):
                    params.update(p)
            specs.append(
                NodeSpec(
                    package=entity.package,
                    executable=entity.executable,
                    name=entity.name or entity.executable,
                    namespace=entity.namespace or "",
                    parameter_files=files,
                    parameters=params,
                    environment={**env, **entity.additional_env},
                    arguments=entity.arguments,
                    remappings=entity.remappings,
                    managed=isinstance(entity, LifecycleNode),
                )
            )
            if isinstance(entity, LifecycleNode):
                events.specs[id(entity)] = specs[-1]
                events.states[id(entity)] = "unconfigured"
                events.nodes.append(entity)
        else:
            raise TypeError(f"{path.name}: unsupported launch entity {type(entity).__name__}")
    return specs
