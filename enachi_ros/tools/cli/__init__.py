"""The ``enachi`` command.

Each part of the package registers its own subcommands (``add_parser(subparsers)``) so the parts
stay independent; imports are lazy so ``enachi --help`` does not load torch or rclpy.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules whose ``add_parser(subparsers) -> None`` registers their subcommands and sets ``func``
# on the parsers it creates. All are part of the package: a failing import is a bug, not a skip.
_PARTS: tuple[str, ...] = (
    "enachi_ros.tools.cli.models",
    "enachi_ros.tools.cli.sim",
    "enachi_ros.tools.bench.cli",
    "enachi_ros.tools.bringup.cli",
    "enachi_ros.tools.security.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="enachi",
        description="ENACHI split inference for ROS 2 robot fleets: train, calibrate, simulate, "
        "reproduce, bench, bringup.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in _PARTS:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    result = args.func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
