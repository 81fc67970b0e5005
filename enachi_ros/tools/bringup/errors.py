"""The one error type of bringup: a configuration problem shown to the user as one line."""

from __future__ import annotations


class BringupError(RuntimeError):
    """A configuration problem reported to the user as one clear line (no traceback)."""
