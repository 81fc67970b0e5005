"""MCAP recording of a run (rosbag2 is not on PyPI): rclpy's CDR bytes through the ``mcap`` writer.

Readers (``mcap-ros2-support``, Foxglove, ``ros2 bag``) decode from the message *definition
text*, so every schema carries the full
definition in the form ``ros2 bag record -s mcap`` writes (rosbag2's
``LocalMessageDefinitionSource``): the type's own .msg text, then each dependency once, depth
first in name order, as ``MSG: pkg/Type`` after a line of 80 ``=``. What a type depends on is read
by rosidl's own .msg parser (``rosidl_adapter.parser``, the one ``rosidl_generate_interfaces``
runs), not by pattern matching. The texts come from the installed ``share/<pkg>/msg/*.msg`` (our
own package also from ``msg/``).
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import Any

SEPARATOR = "=" * 80


def _search_dirs(package: str) -> list[Path]:
    dirs = [Path(sys.prefix) / "share" / package / "msg"]
    try:
        from ament_index_python.packages import get_package_share_directory

        dirs.append(Path(get_package_share_directory(package)) / "msg")
    except Exception:
        pass
    if package == "enachi_interfaces":
        dirs.append(Path(__file__).resolve().parents[3] / "msg")
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


@cache
def dependencies(package: str, name: str) -> tuple[str, ...]:
    """``pkg/Type`` of every message type the fields of ``package/name`` use, in name order.

    Parsed by ``rosidl_adapter.parser`` (fields, arrays, bounds, constants, defaults and
    comments as rosidl reads them; a malformed definition raises its error)."""
    from rosidl_adapter.parser import parse_message_string

    spec = parse_message_string(package, name, msg_text(package, name))
    return tuple(sorted({f"{field.type.pkg_name}/{field.type.type}" for field in spec.fields
                         if not field.type.is_primitive_type()}))


def message_definition(type_name: str) -> str:
    """Concatenated definition of ``pkg/msg/Type`` (or ``pkg/Type``) with all dependencies."""
    package, name = type_name.split("/", maxsplit=1)[0], type_name.rsplit("/", maxsplit=1)[-1]
    seen = {f"{package}/{name}"}

    def with_dependencies(pkg: str, typ: str) -> str:
        text = msg_text(pkg, typ)
        for dep in dependencies(pkg, typ):
            if dep not in seen:
                seen.add(dep)
                text += f"\n{SEPARATOR}\nMSG: {dep}\n" + with_dependencies(*dep.split("/"))
        return text

    return with_dependencies(package, name)


def type_name_of(msg: Any) -> str:
    """``pkg/msg/Type`` of an rclpy message instance."""
    return f"{type(msg).__module__.split('.')[0]}/msg/{type(msg).__name__}"


class McapLog:
    """Appends ROS 2 messages to an MCAP file (schemas and channels registered on first use).

    Messages are stored as the CDR bytes rclpy itself serializes (``serialize_message``, what
    rosbag2 stores), not re-encoded from the definition: mcap_ros2's encoder could not write
    every field type rclpy holds (a ``byte`` field, e.g. DiagnosticStatus.level, is ``bytes`` in
    rclpy and failed its int conversion)."""

    def __init__(self, path: str | Path) -> None:
        from mcap.writer import Writer

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")
        self._writer = Writer(self._file)
        self._writer.start(profile="ros2", library="enachi_ros")
        self._schemas: dict[str, int] = {}
        self._channels: dict[tuple[str, int], int] = {}
        self.messages = 0
        self.errors: list[str] = []

    def write(self, topic: str, msg: Any, log_time_ns: int) -> None:
        from rclpy.serialization import serialize_message

        kind = type_name_of(msg)
        try:
            schema = self._schemas.get(kind)
            if schema is None:
                schema = self._writer.register_schema(
                    name=kind, encoding="ros2msg", data=message_definition(kind).encode())
                self._schemas[kind] = schema
            channel = self._channels.get((topic, schema))
            if channel is None:
                channel = self._writer.register_channel(topic=topic, message_encoding="cdr",
                                                        schema_id=schema)
                self._channels[(topic, schema)] = channel
            self._writer.add_message(channel_id=channel, log_time=log_time_ns,
                                     data=serialize_message(msg), publish_time=log_time_ns,
                                     sequence=self.messages)
            self.messages += 1
        except Exception as exc:
            if len(self.errors) < 10:
                self.errors.append(f"{topic} ({kind}): {exc}")

    def close(self) -> None:
        self._writer.finish()
        self._file.close()
