"""Hypothesis strategies for any ROS 2 message class, biased towards what hurts a fleet.

Built from the message's own field table (``get_fields_and_field_types``), so every message of
enachi_interfaces, sensor_msgs/Image and std_msgs/Header is covered without a hand-written
strategy each. Values mix the plausible (the fleet's robot ids and model, task ids near the
robots' counters, stamps near now, small shapes) with the hostile (NaN, infinities, 3e38,
the type's extremes, unknown enum strings, huge claimed sizes over small payloads), so most
messages pass the first checks and reach the deeper ones.
"""

from __future__ import annotations

import importlib
import re
import time
from typing import Any

from hypothesis import strategies as st

INT_RANGES = {
    "int8": (-(2**7), 2**7 - 1), "uint8": (0, 2**8 - 1), "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1), "int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1), "uint64": (0, 2**64 - 1), "byte": (0, 255), "char": (0, 255),
    "octet": (0, 255),
}
STRINGS = {
    "robot_id": ["robot1", "robot2", "robot9", "", "edge"],
    "frame_id": ["robot1", "robot2", "robot9", "edge", ""],
    "model_name": ["fmnist_resnet", "lite0_frames", "x"],
    "power_law": ["tracking", "pacing", "constant", "bogus", ""],
    "policy": ["enachi", "x"],
    "encoding": ["mono8", "mono16", "rgb8", "bgr8", "rgba8", "bgra8", "32FC1", "yuv422", "x"],
}


def _ints(lo: int, hi: int, name: str) -> st.SearchStrategy[int]:
    near = st.integers(max(lo, 0), min(hi, 3000)) if name.endswith("_id") or "index" in name \
        else st.integers(max(lo, 0), min(hi, 64))
    return st.one_of(near, st.sampled_from(sorted({lo, hi, max(lo, 0), min(hi, 1)})),
                     st.integers(lo, hi))


def _floats(width: int) -> st.SearchStrategy[float]:
    return st.one_of(st.floats(0.0, 1.0, width=width), st.floats(-1e3, 1e3, width=width),
                     st.sampled_from([float("nan"), float("inf"), -float("inf"), 3e38, -1.0,
                                      0.0, 1e-30]),
                     st.floats(width=width))


def _stamp(cls: type) -> st.SearchStrategy[Any]:
    def make(offset: float) -> Any:
        t = max(time.time() + offset, 0.0)
        return cls(sec=int(t), nanosec=int((t % 1) * 1e9))

    return st.one_of(st.builds(make, st.floats(-0.5, 0.5)),
                     st.builds(make, st.sampled_from([-1e9, 1e9, -60.0, 60.0])),
                     st.builds(cls, sec=st.integers(-(2**31), 2**31 - 1),
                               nanosec=st.integers(0, 999_999_999)))


def _message_class(type_name: str) -> type:
    package, name = type_name.split("/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


def field_strategy(name: str, type_name: str, depth: int = 0) -> st.SearchStrategy[Any]:
    seq = re.fullmatch(r"sequence<(.+?)(?:, (\d+))?>", type_name)
    arr = re.fullmatch(r"(.+)\[(\d+)\]", type_name)
    if seq or arr:
        inner = (seq or arr).group(1)
        size = int((seq.group(2) if seq else arr.group(2)) or 0)
        if inner in ("uint8", "octet", "byte") and name == "data":
            return st.binary(max_size=4096) if not arr else st.binary(min_size=size,
                                                                       max_size=size)
        if "/" in inner and depth >= 2:
            return st.just([])
        element = field_strategy(name, inner, depth + 1)
        if arr:
            return st.lists(element, min_size=size, max_size=size)
        return st.lists(element, max_size=min(size or 8, 8))
    if type_name == "boolean":
        return st.booleans()
    if type_name in ("float", "double"):
        return _floats(32 if type_name == "float" else 64)
    if type_name in INT_RANGES:
        lo, hi = INT_RANGES[type_name]
        return _ints(lo, hi, name)
    if type_name == "string":
        return st.one_of(st.sampled_from(STRINGS.get(name, ["", "x"])), st.text(max_size=16))
    if type_name == "builtin_interfaces/Time":
        return _stamp(_message_class(type_name))
    return message_strategy(_message_class(type_name), depth + 1)


def message_strategy(cls: type, depth: int = 0) -> st.SearchStrategy[Any]:
    """Messages of ``cls`` with every field drawn by :func:`field_strategy`."""
    fields = {name: field_strategy(name, kind, depth)
              for name, kind in cls.get_fields_and_field_types().items()}
    return st.builds(cls, **fields)
