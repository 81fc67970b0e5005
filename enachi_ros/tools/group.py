"""Run several nodes in one process on one SingleThreadedExecutor (rclpy composition).

    python -m enachi_ros.tools.group --spec-json FILE

FILE holds a JSON list of launch NodeSpecs (``enachi_ros.tools.launch_eval.NodeSpec`` as dicts).
Each node is built from its console script's module (``NODE_CLASS``) with ``cli_args`` = the spec's
``--ros-args`` (node name, namespace, params files, inline params, remappings): the same rcl
parsing a separate process would get, so grouped and per-node runs cannot diverge. Why group: on a
2-core host one process per robot costs one interpreter + one DDS participant instead of three, and
SingleThreadedExecutor was measured as the only executor that keeps up (no GIL fight).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from dataclasses import asdict
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from enachi_ros.tools.launch_eval import NodeSpec


class MissingNodeError(RuntimeError):
    """A spec's executable is not an installed console script or its module does not exist."""


def console_script_target(executable: str) -> str:
    """``module:function`` of console script ``executable`` (MissingNodeError if unknown)."""
    found = [ep for ep in entry_points(group="console_scripts") if ep.name == executable]
    if not found:
        raise MissingNodeError(
            f"{executable}: not an installed console script (run `make setup` to reinstall)")
    return found[0].value


def check_executable(executable: str) -> str:
    """The module of ``executable``; MissingNodeError naming script and module when absent."""
    module = console_script_target(executable).split(":")[0]
    try:
        present = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        present = False
    if not present:
        raise MissingNodeError(
            f"{executable}: its module {module} does not exist (console script "
            f"{executable} -> {console_script_target(executable)}); that node is not built yet")
    return module


def node_class(executable: str) -> type:
    """The node class (``NODE_CLASS``) behind console script ``executable``."""
    module = importlib.import_module(check_executable(executable))
    cls = getattr(module, "NODE_CLASS", None)
    if cls is None:
        raise MissingNodeError(f"{executable}: module {module.__name__} has no NODE_CLASS")
    return cls


def specs_to_json(specs: list[NodeSpec]) -> str:
    return json.dumps([asdict(s) for s in specs], indent=1)


def specs_from_json(text: str) -> list[NodeSpec]:
    items: list[dict[str, Any]] = json.loads(text)
    specs = []
    for item in items:
        item["remappings"] = [tuple(r) for r in item.get("remappings", [])]
        item["transitions"] = [tuple(t) for t in item.get("transitions", [])]
        specs.append(NodeSpec(**item))
    return specs


def run(specs: list[NodeSpec]) -> int:
    """Build every spec's node in this process and spin them together (``spin.run_nodes``:
    managed nodes wait for their lifecycle manager unless they autostart; a clean stop on
    SIGINT). A node that cannot be built ends the process with one line naming it."""
    from enachi_ros.ros.spin import StartError, build_errors, run_nodes

    def build(context: Any) -> list[Any]:
        nodes = []
        for spec in specs:
            try:
                nodes.append(node_class(spec.executable)(cli_args=spec.ros_args(),
                                                         context=context))
            except (*build_errors(), MissingNodeError) as exc:
                for node in nodes:
                    node.destroy_node()
                raise StartError(f"group: {spec.fqn} ({spec.executable}) failed to start: "
                                 f"{exc}") from None
        return nodes

    return run_nodes(build, args=[])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec-json", required=True, type=Path,
                        help="JSON list of NodeSpecs to run in this process")
    args = parser.parse_args(argv)
    try:
        specs = specs_from_json(args.spec_json.read_text())
    except (OSError, ValueError, TypeError) as exc:
        parser.error(f"--spec-json: cannot read {args.spec_json}: {exc}")
    return run(specs)


if __name__ == "__main__":
    sys.exit(main())
