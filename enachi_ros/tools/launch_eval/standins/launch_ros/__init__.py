"""Stand-in for ``launch_ros`` (absent from the PyPI ROS 2 wheels)."""
