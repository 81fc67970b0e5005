"""Environment for a child process that runs another venv's Python or a sourced ROS workspace.

The ROS wheels' bootstrapper re-execs Python once with LD_LIBRARY_PATH set and marks that with
_ROS_WHEELS_BOOTSTRAP_COMPLETE; a child that inherited both would skip its own bootstrap and load
this venv's libraries. Never mix venvs in one process tree: drop what either side sets. Make's
variables go too: `make test VENV=... ROS_DISTRO=...` exports its command-line variables, which a
nested make would take for its own.
"""

from __future__ import annotations

import os

INHERITED = (
    "_ROS_WHEELS_BOOTSTRAP_COMPLETE", "LD_LIBRARY_PATH", "PYTHONPATH", "VIRTUAL_ENV",
    "AMENT_PREFIX_PATH", "CMAKE_PREFIX_PATH", "COLCON_PREFIX_PATH",
    "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VENV", "ROS_DISTRO",
)


def foreign_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of ``base`` (default os.environ) without what this venv or a workspace set."""
    return {k: v for k, v in (os.environ if base is None else base).items() if k not in INHERITED}
