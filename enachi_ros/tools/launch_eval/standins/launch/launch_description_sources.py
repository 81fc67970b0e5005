"""Stand-in ``launch.launch_description_sources``."""

from __future__ import annotations


class PythonLaunchDescriptionSource:
    def __init__(self, launch_file_path: str) -> None:
        self.launch_file_path = launch_file_path
