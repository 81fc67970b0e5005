"""Node shutdown: the SIGINT race inside the executor ends a node quietly, nothing else does."""

from __future__ import annotations

import pytest

pytest.importorskip("rclpy")

from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy

from enachi_ros.ros.spin import spin_until_shutdown


class _Context:
    def __init__(self, ok: bool) -> None:
        self._ok = ok

    def ok(self) -> bool:
        return self._ok


class _Executor:
    """Raises what rclpy raised in the measured races, leaving the context in a given state
    (a race: the context was shut down while ``spin_once`` ran)."""

    def __init__(self, exc: BaseException, context_ok: bool) -> None:
        self.exc, self.context, self.after = exc, _Context(True), context_ok

    def spin_once(self, timeout_sec: float | None = None) -> None:
        self.context._ok = self.after
        raise self.exc


@pytest.mark.parametrize("exc", [
    _rclpy.RCLError("failed to initialize wait set: the given context is not valid"),
    RuntimeError("Unable to convert call argument '0' to Python object"),
])
def test_the_shutdown_race_ends_the_node_quietly(exc, capsys) -> None:
    spin_until_shutdown(_Executor(exc, context_ok=False))
    assert "ignored, the context was already shut down" in capsys.readouterr().err


@pytest.mark.parametrize("exc", [_rclpy.RCLError("a real failure"), RuntimeError("a bug"),
                                 ValueError("a bug")])
def test_errors_while_the_context_is_valid_are_raised(exc) -> None:
    with pytest.raises(type(exc)):
        spin_until_shutdown(_Executor(exc, context_ok=True))
