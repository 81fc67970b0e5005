"""Deterministic, type-driven filling of any ROS 2 message, for round-trip tests.

Values are chosen to be exactly representable in each field's type (float32 included), so a
message that survives serialization compares equal to a freshly built one.
"""

from __future__ import annotations

import importlib
from typing import Any

from rosidl_parser.definition import (
    AbstractNestedType,
    AbstractString,
    BasicType,
    NamespacedType,
)

ENACHI_MESSAGES = (
    "FeaturePacket",
    "TaskFeedback",
    "InferenceResult",
    "SchedulerDecision",
    "SchedulerDecisionArray",
    "EnergyReport",
    "ChannelReport",
    "EncodedTask",
    "GroundTruth",
    "MessageAuth",
)


def message_class(pkg: str, name: str) -> type:
    return getattr(importlib.import_module(f"{pkg}.msg"), name)


def _basic(typename: str, seed: int) -> Any:
    if typename == "boolean":
        return seed % 2 == 1
    if typename in ("float", "double"):
        return seed * 0.25 + 0.5
    if typename in ("octet", "uint8", "char"):
        return seed % 256 if typename != "char" else chr(65 + seed % 26)
    if typename.startswith("int"):
        return -(seed + 1) if seed % 2 else seed + 1
    return seed + 1  # unsigned


def fill(msg_cls: type, seed: int = 3) -> Any:
    """A message of ``msg_cls`` with every field set to a seed-dependent, non-default value."""
    msg = msg_cls()
    fields = list(msg_cls.get_fields_and_field_types())
    for i, (name, slot) in enumerate(zip(fields, msg_cls.SLOT_TYPES, strict=True)):
        setattr(msg, name, _value(slot, seed + i))
    return msg


def _value(slot: Any, seed: int) -> Any:
    if isinstance(slot, AbstractNestedType):
        n = 2 + seed % 3
        if isinstance(slot.value_type, BasicType) and slot.value_type.typename in (
            "octet",
            "uint8",
        ):
            return bytes((seed + k) % 256 for k in range(n))
        return [_value(slot.value_type, seed + k) for k in range(n)]
    if isinstance(slot, AbstractString):
        return f"v{seed}"
    if isinstance(slot, BasicType):
        return _basic(slot.typename, seed)
    if isinstance(slot, NamespacedType):
        return fill(message_class(slot.namespaces[0], slot.name), seed)
    raise TypeError(f"unsupported slot type {slot!r}")
