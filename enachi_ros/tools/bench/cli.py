"""``enachi bench ...``: one parser with a sub-command per benchmark module.

Each module listed in ``BENCH_MODULES`` exposes ``add_bench_parser(subparsers)`` and keeps its
heavy imports inside its handler; a module that does not exist yet is skipped, so benches can
be added independently by appending to the list.
"""

from __future__ import annotations

import argparse
import importlib

BENCH_MODULES: list[str] = [
    "enachi_ros.tools.bench.models",
    "enachi_ros.tools.bench.scheduler",
    "enachi_ros.tools.bench.pipeline",
    "enachi_ros.tools.bench.executors",
    "enachi_ros.tools.bench.security",
    "enachi_ros.tools.bench.external_images",
]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench`` and its sub-commands."""
    parser = subparsers.add_parser(
        "bench", help="benchmarks: models, scheduler, pipeline, executors, external_images")
    benches = parser.add_subparsers(dest="bench", metavar="BENCH")
    for module_name in BENCH_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # not written yet
            raise
        module.add_bench_parser(benches)

    def _help(_: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=_help)
