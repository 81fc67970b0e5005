"""Declared, described and validated node parameters.

Each node lists its parameters once as :class:`Param` entries (name, default, description,
check). :func:`declare` declares them in a node's constructor with a ``ParameterDescriptor``
(description, allowed values or range, read-only where changing at run time makes no sense) and
installs a set-parameters callback that refuses bad run-time changes with a message naming the
parameter; :func:`check_values` validates the values a managed node is configured with (its
``on_configure``: a bad value fails the transition with the same message). rclpy itself refuses
a number outside a declared range when the parameter is declared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.node import Node


class ParameterError(ValueError):
    """A parameter value was refused; the message names the parameter and what was expected."""


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    description: str
    choices: Sequence[str] | None = None
    low: float | None = None  # inclusive lower bound for numbers
    high: float | None = None  # inclusive upper bound for numbers
    check: Callable[[Any], bool] | None = None  # extra predicate
    expected: str = ""  # what ``check`` wants, for the error message
    read_only: bool = False


def validate(spec: Param, value: Any) -> None:
    """Raise ParameterError naming ``spec.name`` if ``value`` is not acceptable."""
    if spec.choices is not None and value not in spec.choices:
        raise ParameterError(f"{spec.name}: expected one of {list(spec.choices)}, got {value!r}")
    if isinstance(spec.default, bool) != isinstance(value, bool):
        raise ParameterError(
            f"{spec.name}: expected a {type(spec.default).__name__}, got {value!r}"
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        if spec.low is not None and value < spec.low:
            raise ParameterError(f"{spec.name}: expected >= {spec.low}, got {value!r}")
        if spec.high is not None and value > spec.high:
            raise ParameterError(f"{spec.name}: expected <= {spec.high}, got {value!r}")
    if spec.check is not None and not spec.check(value):
        raise ParameterError(
            f"{spec.name}: expected {spec.expected or 'a valid value'}, got {value!r}"
        )


def _descriptor(spec: Param) -> ParameterDescriptor:
    text = spec.description
    if spec.choices is not None:
        text += f" (one of: {', '.join(map(str, spec.choices))})"
    desc = ParameterDescriptor(description=text, read_only=spec.read_only)
    if isinstance(spec.default, float) and (spec.low is not None or spec.high is not None):
        desc.floating_point_range = [
            FloatingPointRange(
                from_value=float(spec.low if spec.low is not None else -1e300),
                to_value=float(spec.high if spec.high is not None else 1e300),
                step=0.0,
            )
        ]
    elif (
        isinstance(spec.default, int)
        and not isinstance(spec.default, bool)
        and (spec.low is not None or spec.high is not None)
    ):
        desc.integer_range = [
            IntegerRange(
                from_value=int(spec.low if spec.low is not None else -(2**62)),
                to_value=int(spec.high if spec.high is not None else 2**62),
                step=1,
            )
        ]
    return desc


def declare(node: Node, specs: Sequence[Param]) -> dict[str, Any]:
    """Declare ``specs`` on ``node`` and guard run-time changes.

    Returns the live values by name (a valid run-time change updates them); the start-up values
    are validated by :func:`check_values`. Numbers given as ints for float parameters are
    accepted.
    """
    by_name = {s.name: s for s in specs}
    values: dict[str, Any] = {}
    for spec in specs:
        param = node.declare_parameter(spec.name, spec.default, _descriptor(spec))
        values[spec.name] = _coerced(spec, param.value)

    def on_set(params: list) -> SetParametersResult:
        for p in params:
            spec = by_name.get(p.name)
            if spec is None:
                continue
            try:
                validate(spec, p.value)
            except ParameterError as exc:
                return SetParametersResult(successful=False, reason=str(exc))
        for p in params:
            if p.name in values:
                values[p.name] = _coerced(by_name[p.name], p.value)
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(on_set)
    return values


def _coerced(spec: Param, value: Any) -> Any:
    if isinstance(spec.default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def check_values(values: dict[str, Any], specs: Sequence[Param]) -> None:
    """Raise :class:`ParameterError` naming the first parameter whose value is not acceptable."""
    for spec in specs:
        validate(spec, values[spec.name])


# Parameters several nodes share (one definition, one validation).
ROBOT_ID = Param(
    "robot_id",
    "robot1",
    "this robot's id (its namespace)",
    check=lambda v: bool(v) and "/" not in v,
    expected="a non-empty id without '/'",
)
ROBOT_IDS = Param(
    "robot_ids",
    ["robot1"],
    "ids (namespaces) of the robots served",
    check=lambda v: len(v) > 0 and all(v),
    expected="a non-empty list of robot ids",
)
MODEL = Param("model", "fmnist_resnet", "registered split model")
# The feature topic's queue: a task sends up to ~110 packets (the camera workload's block1) and
# a busy tail reads them late, so the queue must hold a whole task per robot and keep packets
# for as long as their deadline leaves them useful (shared by transmitter and tail).
FEATURE_QUEUE = (
    Param("feature_queue_depth", 64, "feature packets kept per robot topic (KEEP_LAST)",
          low=1, high=100000),
    Param("feature_lifespan_s", 0.1, "how long a feature packet stays deliverable (s)",
          low=0.001, high=60.0),
)
ARTIFACT_DIR = Param(
    "artifact_dir", "", "calibration artifact folder (empty: the model's committed one)"
)
MAX_DEADLINE_S = 60.0  # upper limit of every deadline parameter and of a received deadline

# Every received stamp (a capture, a deadline) is compared with the node's ROS clock: far off
# means a clock that is not shared (use_sim_time on some nodes only, an unsynchronized robot).
MAX_STAMP_SKEW = Param("max_stamp_skew_s", 10.0, "a received stamp farther than this from the "
                       "node's ROS clock is rejected (and the first one flagged) (s)",
                       low=0.001, high=1e6)
