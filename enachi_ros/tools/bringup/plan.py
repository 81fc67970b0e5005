"""Planning a bringup: launch file -> NodeSpecs -> process groups with their commands.

Each spec runs either in its own process (``per-node``: ``<venv>/bin/<executable> --ros-args
...``) or grouped per namespace (``per-robot``, the default: one process per robot/edge running
its node classes on one executor, see ``tools/group.py``; lighter on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from enachi_ros.tools.bringup.errors import BringupError
from enachi_ros.tools.launch_eval import NodeSpec

# Convenience flags -> launch argument names (passed only when given).
FLAG_ARGS = {"robots": "robots", "policy": "policy", "source": "source",
             "frame_rate": "frame_rate", "dds_profile": "dds_profile", "workload": "workload",
             "image_topic": "image_topic", "residual_loss": "residual_loss",
             "use_sim_time": "use_sim_time", "security": "security", "keystore": "keystore"}
PROCESS_MODES = ("per-robot", "per-node")


def launch_arguments(args: argparse.Namespace) -> dict[str, str]:
    """``--arg k=v`` plus the convenience flags that were given (flags win)."""
    out: dict[str, str] = {}
    for item in args.arg:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BringupError(f"--arg: expected K=V, got {item!r}")
        out[key.strip()] = value.strip()
    for attr, name in FLAG_ARGS.items():
        value = getattr(args, attr, None)
        if value is not None:
            out[name] = str(value)
    return out


@dataclass
class Group:
    """One process to start: its name, specs and command."""

    name: str
    specs: list[NodeSpec]
    command: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)


def plan_specs(launch: Path, arguments: dict[str, str], nodes: str = "",
               max_frames: int = 0) -> list[NodeSpec]:
    """Evaluate the launch file, filter ``--nodes``, check every executable exists."""
    from enachi_ros.tools.group import MissingNodeError, check_executable
    from enachi_ros.tools.launch_eval import evaluate

    if not launch.is_file():
        raise BringupError(f"--launch: launch file {launch} does not exist")
    try:
        specs = evaluate(launch, arguments)
    except ValueError as exc:
        raise BringupError(str(exc)) from None
    if nodes:
        wanted = {n.strip() for n in nodes.split(",") if n.strip()}
        unknown = wanted - {s.name for s in specs}
        if unknown:
            raise BringupError(f"--nodes: no node named {sorted(unknown)} in {launch.name}; "
                               f"nodes: {sorted({s.name for s in specs})}")
        specs = [s for s in specs if s.name in wanted]
    missing = []
    for executable in dict.fromkeys(s.executable for s in specs):
        try:
            check_executable(executable)
        except MissingNodeError as exc:
            missing.append(str(exc))
    if missing:
        raise BringupError("cannot start: " + "; ".join(missing)
                           + " (start fewer nodes with --nodes, e.g. --nodes camera)")
    if max_frames:
        for spec in specs:
            if spec.name == "camera":
                spec.parameters["max_frames"] = max_frames
    return specs


def group_specs(specs: list[NodeSpec], mode: str) -> list[Group]:
    """Per-node: one group per spec; per-robot: one group per namespace, in launch order."""
    if mode not in PROCESS_MODES:
        raise BringupError(f"--processes: expected one of {PROCESS_MODES}, got {mode!r}")
    if mode == "per-node":
        return [Group(s.fqn.strip("/").replace("/", "."), [s]) for s in specs]
    groups: dict[tuple[str, tuple], Group] = {}
    for spec in specs:
        namespace = spec.namespace.strip("/") or "root"
        # one process per namespace and environment: a node with an environment of its own
        # (e.g. an external camera's DDS profile, ``additional_env`` in the launch file) runs
        # in its own process, as under ros2 launch
        key = (namespace, tuple(sorted(spec.environment.items())))
        if key not in groups:
            taken = any(ns == namespace for ns, _ in groups)
            groups[key] = Group(f"{namespace}.{spec.name}" if taken else namespace, [])
        groups[key].specs.append(spec)
    return list(groups.values())


def robot_base(specs: list[NodeSpec]) -> dict[str, float] | None:
    """What each robot draws whatever the scheduler decides (its idle board and dozing radio,
    from the head's physical parameters) and per frame (1 / the camera's frame rate): the base
    the run summary reports beside the robots' energy. None without a head or a camera."""
    from enachi_ros.core.params import DeviceParams
    from enachi_ros.core.radio_power import RadioPower
    from enachi_ros.sim.from_launch import node_parameters

    head = next((node_parameters(s) for s in specs if s.name == "head"), None)
    camera = next((node_parameters(s) for s in specs if s.name == "camera"), None)
    if head is None or camera is None or not float(camera.get("frame_rate", 0.0)) > 0:
        return None
    power_w = float(head.get("idle_power_w", DeviceParams().idle_power_w)) + float(
        head.get("sleep_w", RadioPower().sleep_w))
    return {"power_w": power_w, "per_frame_j": power_w / float(camera["frame_rate"])}


def robot_ids_of(specs: list[NodeSpec]) -> list[str]:
    """Namespaces that run a camera: the robots whose frames are counted."""
    return list(dict.fromkeys(s.namespace.strip("/") for s in specs if s.name == "camera"))


def ros_environment(domain_id: int | None) -> dict[str, str]:
    """Loopback discovery and a domain of this run, unless the user set them already."""
    env = {"ROS_AUTOMATIC_DISCOVERY_RANGE":
           os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")}
    if domain_id is not None:
        if not 0 <= domain_id <= 101:
            raise BringupError(f"--domain-id: expected 0..101, got {domain_id}")
        env["ROS_DOMAIN_ID"] = str(domain_id)
    else:
        env["ROS_DOMAIN_ID"] = os.environ.get("ROS_DOMAIN_ID", str(1 + os.getpid() % 100))
    return env


def _script(executable: str) -> str:
    local = Path(sys.executable).parent / executable
    return str(local) if local.exists() else (shutil.which(executable) or executable)


def build_commands(groups: list[Group], spec_dir: Path, base_env: dict[str, str]) -> None:
    """Fill each group's command and environment (spec JSON files go to ``spec_dir``)."""
    from enachi_ros.tools.group import specs_to_json

    spec_dir.mkdir(parents=True, exist_ok=True)
    for g in groups:
        g.environment = {**base_env}
        for spec in g.specs:
            g.environment.update(spec.environment)
        if len(g.specs) == 1 and g.name != g.specs[0].namespace.strip("/"):
            spec = g.specs[0]
            g.command = [_script(spec.executable), *spec.ros_args()]
        else:
            path = spec_dir / f"{g.name}.json"
            path.write_text(specs_to_json(g.specs))
            g.command = [sys.executable, "-m", "enachi_ros.tools.group", "--spec-json", str(path)]
