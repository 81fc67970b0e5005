"""Install the torchvision CPU shim (``models.tv_shim``) the moment anything imports torchvision.

A ``.pth`` file in the venv (written by ``make setup``: ``enachi_tv_shim.pth``) imports this
module at interpreter start. It only adds a finder to ``sys.meta_path`` (no torch import, so
starting Python stays fast); the first ``import torchvision`` anywhere (a notebook, a script, a
test) installs the shim first, then the finder removes itself and the normal import proceeds.
"""

from __future__ import annotations

import importlib.abc
import sys


class _ShimFirst(importlib.abc.MetaPathFinder):
    """Runs the shim before torchvision is found; finds nothing itself."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torchvision":
            return None
        sys.meta_path.remove(self)
        from enachi_ros.models import tv_shim  # noqa: F401  (installs on import)

        return None


def install() -> None:
    if "torchvision" not in sys.modules and not any(
            isinstance(f, _ShimFirst) for f in sys.meta_path):
        sys.meta_path.insert(0, _ShimFirst())


install()
