"""Stand-in for ``launch_ros`` (absent from the PyPI ROS 2 wheels)."""

from . import actions, event_handlers, events  # noqa: F401  (imported, as by the real package)
