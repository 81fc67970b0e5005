"""package.xml, setup.py, the interface package and the installed data files agree."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IFACE = ROOT / "ros2_ws" / "src" / "enachi_interfaces"


def _xml(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def test_package_xml_is_format_3_with_metadata() -> None:
    for path in (ROOT / "package.xml", IFACE / "package.xml"):
        root = _xml(path)
        assert root.get("format") == "3", path
        for tag in ("name", "version", "description", "license", "maintainer"):
            assert (root.findtext(tag) or "").strip(), f"{path}: <{tag}> empty"
        assert {u.get("type") for u in root.findall("url")} >= {"website", "repository"}, path


def test_setup_py_matches_package_xml() -> None:
    root = _xml(ROOT / "package.xml")
    setup_text = (ROOT / "setup.py").read_text()
    assert root.findtext("name") == "enachi_ros"
    assert f'version="{root.findtext("version")}"' in setup_text
    assert f'license="{root.findtext("license")}"' in setup_text
    assert root.find("export/build_type").text == "ament_python"
    assert (ROOT / "resource" / "enachi_ros").is_file()
    assert "script_dir=$base/lib/enachi_ros" in (ROOT / "setup.cfg").read_text()
    deps = {d.text for d in root.findall("exec_depend")}
    assert {"rclpy", "enachi_interfaces", "sensor_msgs", "std_msgs"} <= deps


def test_interface_package_generates_every_msg_file() -> None:
    cmake = (IFACE / "CMakeLists.txt").read_text()
    listed = set(re.search(r"set\(ENACHI_MSGS(.*?)\)", cmake, re.S).group(1).split())
    on_disk = {p.stem for p in (ROOT / "msg").glob("*.msg")}
    assert listed == on_disk
    root = _xml(IFACE / "package.xml")
    assert root.find("member_of_group").text == "rosidl_interface_packages"


def test_generated_messages_are_importable() -> None:
    msgs = pytest.importorskip("enachi_interfaces.msg")
    for stem in (p.stem for p in (ROOT / "msg").glob("*.msg")):
        assert hasattr(msgs, stem), stem


def test_wheel_installs_every_launch_config_and_msg_file(tmp_path: Path) -> None:
    """Build the package as colcon/pip would install it and compare share/ with the tree."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("enachi_ros-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shared = {n.split(".data/data/", 1)[1] for n in names if ".data/data/" in n}
    expected = {
        f"share/enachi_ros/{p.relative_to(ROOT)}"
        for pattern in ("launch/*.launch.py", "config/**/*.yaml", "config/**/*.xml", "msg/*.msg")
        for p in ROOT.glob(pattern)
    }
    expected |= {
        "share/enachi_ros/package.xml",
        "share/ament_index/resource_index/packages/enachi_ros",
    }
    assert expected <= shared, sorted(expected - shared)
    assets = {
        str(p.relative_to(ROOT)) for p in (ROOT / "enachi_ros" / "assets").rglob("*") if p.is_file()
    }
    assert assets <= set(names), sorted(assets - set(names))  # trained models ship with it
