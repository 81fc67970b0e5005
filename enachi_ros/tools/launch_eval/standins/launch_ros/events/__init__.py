"""Stand-in ``launch_ros.events``."""
