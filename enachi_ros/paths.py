"""Where the package's data lives, installed (colcon/pip) or in a source checkout.

Launch files, parameter files and DDS profiles are installed to ``share/enachi_ros``; in an
editable/venv install they stay in the repository, so both places are looked up, installed first.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

PACKAGE = "enachi_ros"
_REPO_ROOT = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=1)
def share_dir() -> Path:
    """The folder holding ``config/``, ``launch/`` and ``msg/`` of this package."""
    try:
        from ament_index_python.packages import (
            PackageNotFoundError,
            get_package_share_directory,
        )

        try:
            installed = Path(get_package_share_directory(PACKAGE))
            if (installed / "config").is_dir():
                return installed
        except (PackageNotFoundError, OSError):  # OSError: AMENT_PREFIX_PATH unset
            pass
    except ImportError:
        pass
    if (_REPO_ROOT / "config").is_dir():
        return _REPO_ROOT
    raise FileNotFoundError(
        f"cannot find the share folder of {PACKAGE}: not installed under AMENT_PREFIX_PATH and "
        f"no config/ beside the package at {_REPO_ROOT}"
    )


def config_path(*parts: str) -> Path:
    """A file under ``config/``; raises FileNotFoundError naming it when absent."""
    path = share_dir().joinpath("config", *parts)
    if not path.exists():
        raise FileNotFoundError(f"config file not found: {path}")
    return path
