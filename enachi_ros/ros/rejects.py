"""Counted, rate-limited rejection of bad input: one counter per topic and field.

Why a class of its own: every subscriber of the fleet validates what it receives (anyone on the
DDS domain can publish anything), and a rejected message must (a) be counted, per topic and per
reason, for the run summary and ``/diagnostics``, (b) be logged with the field, the value and
what was expected, and (c) not flood the log when a peer sends thousands of them. rclpy's
``throttle_duration_sec`` throttles per call site, so one bad field would hide every other; here
each (topic, field) pair has its own limiter: its first rejection is logged at once, later ones
at most once per ``throttle_s`` with the count since the last line.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any


class InputError(ValueError):
    """A received message failed validation: which field, what it held, what was expected."""

    def __init__(self, field: str, value: Any, expected: str) -> None:
        super().__init__(f"{field}: expected {expected}, got {_short(value)}")
        self.field, self.value, self.expected = field, value, expected


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class InputRejects:
    """Rejection counts per ``(topic, field)`` with a log line per pair at most every
    ``throttle_s`` seconds (monotonic time: the limiter must work under simulated time too)."""

    def __init__(self, warn: Callable[[str], None], throttle_s: float = 2.0,
                 resolve: Callable[[str], str] = str) -> None:
        self._warn, self._resolve = warn, resolve  # resolve: relative topic -> its full name
        self.throttle_s = throttle_s
        self.counts: dict[tuple[str, str], int] = {}
        self._logged: dict[tuple[str, str], tuple[float, int]] = {}  # last line: time, count

    def reject(self, topic: str, error: InputError | ValueError, what: str = "message") -> None:
        """Count one rejected ``what`` on ``topic``; log it unless this pair logged recently."""
        field = error.field if isinstance(error, InputError) else _field_of(error)
        topic = self._resolve(topic)
        key = (topic, field)
        n = self.counts.get(key, 0) + 1
        self.counts[key] = n
        now = time.monotonic()
        last_t, last_n = self._logged.get(key, (-math.inf, 0))
        if now - last_t >= self.throttle_s:
            self._logged[key] = (now, n)
            more = f", {n - last_n - 1} more since the last line" if n - last_n > 1 else ""
            self._warn(f"{topic}: {what} rejected: {error} ({n} rejected for {field}{more})")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def by_topic(self) -> dict[str, dict[str, int]]:
        """``{topic: {field: count}}``, for diagnostics and the run summary."""
        out: dict[str, dict[str, int]] = {}
        for (topic, field), n in sorted(self.counts.items()):
            out.setdefault(topic, {})[field] = n
        return out


def _field_of(error: ValueError) -> str:
    """The field a plain ValueError names first (``"field: expected ..."`` or ``"field must
    ..."``, the project's conventions for validation errors), else ``"message"``."""
    first = str(error).split(" ", 1)[0].rstrip(":")
    return first if first.replace("_", "").replace(".", "").isalnum() else "message"


# ----------------------------------------------------------------------------- field checks
def finite(field: str, value: float, low: float = -math.inf, high: float = math.inf) -> float:
    """``value`` as a float if finite and in ``[low, high]``, else InputError."""
    v = float(value)
    if not (math.isfinite(v) and low <= v <= high):
        raise InputError(field, value, f"a finite number in [{low:g}, {high:g}]")
    return v


def one_of(field: str, value: Any, allowed: Any) -> Any:
    if value not in allowed:
        raise InputError(field, value, f"one of {sorted(allowed)}")
    return value


def below(field: str, value: int, limit: int) -> int:
    """An index: ``0 <= value < limit``."""
    if not 0 <= int(value) < limit:
        raise InputError(field, value, f"an integer in [0, {limit})")
    return int(value)
