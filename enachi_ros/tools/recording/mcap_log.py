"""MCAP recording of a run with the ``mcap-ros2-support`` writer (rosbag2 is not on PyPI).

The writer serializes from the message *definition text*, so every schema carries the full
definition in the standard ROS 2 concatenated form (the one rosbag2 and Foxglove read): the
type's own .msg text, then each dependency once, as ``MSG: pkg/Type`` after a line of 80 ``=``.
The texts come from the installed ``share/<pkg>/msg/*.msg`` (our own package also from ``msg/``).
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

SEPARATOR = "=" * 80
PRIMITIVES = frozenset({
    "bool", "byte", "char", "float32", "float64", "int8", "uint8", "int16", "uint16", "int32",
    "uint32", "int64", "uint64", "string", "wstring",
})
_FIELD = re.compile(r"^\s*([A-Za-z][\w/]*)(?:\[[^\]]*\])?(?:<=\d+)?\s+\w+")


def _search_dirs(package: str) -> list[Path]:
    dirs = [Path(sys.prefix) / "share" / package / "msg"]
    try:
        from ament_index_python.packages import get_package_share_directory

        dirs.append(Path(get_package_share_directory(package)) / "msg")
    except Exception:
        pass
    if package == "enachi_interfaces":
        dirs.append(Path(__file__).resolve().parents[2] / "msg")
    return dirs


@cache
def msg_text(package: str, name: str) -> str:
    """The .msg text of ``package/name``; FileNotFoundError lists where it looked."""
    dirs = _search_dirs(package)
    for folder in dirs:
        path = folder / f"{name}.msg"
        if path.is_file():
            return path.read_text()
    raise FileNotFoundError(f"message definition {package}/{name}.msg not found in "
                            f"{[str(d) for d in dirs]}")


def _dependencies(package: str, text: str) -> list[tuple[str, str]]:
    deps = []
    for raw in text.splitlines():
        code = raw.split("#", 1)[0]
        match = _FIELD.match(code)
        if not match or "=" in code:  # constants and defaults only exist for primitive types
            continue
        kind = match.group(1)
        if kind in PRIMITIVES:
            continue
        if kind == "Header":
            deps.append(("std_msgs", "Header"))
        elif "/" in kind:
            pkg, _, typ = kind.partition("/")
            deps.append((pkg, typ.split("/")[-1]))
        else:
            deps.append((package, kind))
    return deps


def message_definition(type_name: str) -> str:
    """Concatenated definition of ``pkg/msg/Type`` (or ``pkg/Type``) with all dependencies."""
    package, name = type_name.split("/", maxsplit=1)[0], type_name.rsplit("/", maxsplit=1)[-1]
    root = msg_text(package, name)
    seen: set[tuple[str, str]] = {(package, name)}
    parts = [root.rstrip("\n")]
    pending = _dependencies(package, root)
    while pending:
        dep = pending.pop(0)
        if dep in seen:
            continue
        seen.add(dep)
        text = msg_text(*dep)
        parts.append(f"{SEPARATOR}\nMSG: {dep[0]}/{dep[1]}\n{text.rstrip(chr(10))}")
        pending += _dependencies(dep[0], text)
    return "\n".join(parts) + "\n"


def type_name_of(msg: Any) -> str:
    """``pkg/msg/Type`` of an rclpy message instance."""
    return f"{type(msg).__module__.split('.')[0]}/msg/{type(msg).__name__}"


class McapLog:
    """Appends ROS 2 messages to an MCAP file (schemas registered on first use)."""

    def __init__(self, path: str | Path) -> None:
        from mcap_ros2.writer import Writer

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")
        self._writer = Writer(self._file)
        self._schemas: dict[str, Any] = {}
        self.messages = 0
        self.errors: list[str] = []

    def write(self, topic: str, msg: Any, log_time_ns: int) -> None:
        kind = type_name_of(msg)
        schema = self._schemas.get(kind)
        if schema is None:
            schema = self._writer.register_msgdef(kind, message_definition(kind))
            self._schemas[kind] = schema
        try:
            self._writer.write_message(topic, schema, msg, log_time=log_time_ns)
            self.messages += 1
        except Exception as exc:
            if len(self.errors) < 10:
                self.errors.append(f"{topic} ({kind}): {exc}")

    def close(self) -> None:
        self._writer.finish()
        self._file.close()
