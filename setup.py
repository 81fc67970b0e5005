"""ament_python package enachi_ros (builds with colcon on robots and with pip in a venv).

The non-ROS Python dependencies are declared once, in requirements.txt (pinned, for machines
without an apt ROS 2), and exposed here as the ``pypi`` extra; the ROS 2 wheels of each distro
are pinned in requirements/<distro>.txt (make setup ROS_DISTRO=...). On robots rosdep resolves
package.xml instead.
"""

from __future__ import annotations

from glob import glob
from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "enachi_ros"
HERE = Path(__file__).resolve().parent

NODES = {
    "camera_node": "enachi_ros.nodes.camera:main",
    "head_node": "enachi_ros.nodes.head:main",
    "transmitter_node": "enachi_ros.nodes.transmitter:main",
    "tail_node": "enachi_ros.nodes.tail:main",
    "scheduler_node": "enachi_ros.nodes.scheduler:main",
}


def _requirements() -> list[str]:
    lines = (HERE / "requirements.txt").read_text().splitlines()
    return [ln.split("#")[0].strip() for ln in lines if ln.split("#")[0].strip()]


def _tree(folder: str, pattern: str) -> list[tuple[str, list[str]]]:
    """data_files entries that keep a folder's sub-structure under share/<package>/."""
    entries: dict[str, list[str]] = {}
    for path in sorted(glob(f"{folder}/**/{pattern}", recursive=True)):
        entries.setdefault(str(Path("share", PACKAGE, path).parent), []).append(path)
    return sorted(entries.items())


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["tests", "tests.*"]),
    package_data={PACKAGE: ["assets/**/*", "models/*.json"]},
    include_package_data=True,
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        *_tree("launch", "*.launch.py"),
        *_tree("config", "*.yaml"),
        *_tree("config", "*.xml"),
        *_tree("msg", "*.msg"),
    ],
    install_requires=["setuptools"],
    extras_require={"pypi": _requirements()},
    zip_safe=False,
    maintainer="enachi_ros maintainers",
    maintainer_email="enachi-ros@example.org",
    description="ENACHI split inference for ROS 2 robot fleets over lossy links",
    license="Apache-2.0",
    python_requires=">=3.10",
    tests_require=["pytest"],
    entry_points={
        "console_scripts": [
            *(f"{name} = {target}" for name, target in NODES.items()),
            "enachi = enachi_ros.tools.cli:main",
        ],
    },
)
