"""Both package.xml files pass `rosdep install --from-paths src` for Jazzy on Ubuntu 24.04, and
declare every ROS package the code imports.

rosdep and the rosdistro index are not reachable from CI: the names are checked against
tests/data/rosdep_jazzy_noble.yaml, generated from ros/rosdistro by tests/rosdep_snapshot.py.
A robot's `rosdep install` fails on the first name it cannot resolve (`ament_python` did), and
an undeclared import fails only at run time on a robot whose image lacks the package.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml
from rosdep_snapshot import (
    PACKAGE_XMLS,
    SNAPSHOT,
    code_imports,
    declared_names,
    own_packages,
    package_dependencies,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def snapshot() -> dict:
    return yaml.safe_load(SNAPSHOT.read_text())


def test_no_ament_python_build_tool_and_catkin_pkg_parses_both() -> None:
    """`ament_python` names a build type, not a package: as a buildtool_depend rosdep cannot
    resolve it. catkin_pkg is what rosdep and colcon parse package.xml with."""
    catkin_pkg = pytest.importorskip("catkin_pkg.package")
    for path in PACKAGE_XMLS:
        package = catkin_pkg.parse_package(str(path))
        package.validate()
        assert "ament_python" not in {d.name for d in package.buildtool_depends}, path


def test_every_dependency_resolves_for_jazzy_on_noble(snapshot: dict) -> None:
    """Each name is a package released into Jazzy or a rosdep key with apt packages on noble
    (a pip-installed key fails there: the system Python is externally managed)."""
    known = set(snapshot["ros_packages"]) | set(snapshot["rosdep_keys"])
    stale = declared_names() - known - set(snapshot["neither"])
    assert not stale, f"not in the snapshot, regenerate it (tests/rosdep_snapshot.py): {stale}"
    unresolvable = declared_names() - known
    assert not unresolvable, f"rosdep cannot resolve {sorted(unresolvable)} for jazzy on noble"
    not_apt = {k for k in declared_names() & set(snapshot["rosdep_keys"])
               if set(snapshot["rosdep_keys"][k]) != {"apt"}}
    assert not not_apt, f"keys that are not apt packages on noble: {sorted(not_apt)}"


def test_every_imported_ros_package_is_declared(snapshot: dict) -> None:
    """A ROS package is a name released into Jazzy (snapshot) or one the ROS wheels of this venv
    register in the ament index; optional imports count too, so rosdep installs them."""
    imports = code_imports()
    index = Path(sys.prefix, "share", "ament_index", "resource_index", "packages")
    wheel_packages = {p.name for p in index.iterdir()} if index.is_dir() else set()
    # Modules that only non-ROS distributions of this venv provide (numpy, torch...) need no
    # snapshot entry; anything else must be classified by it.
    providers = packages_distributions()
    plain_python = {
        name for name in imports
        if name in providers and name not in wheel_packages
        and not any(d.lower().startswith("ros-") for d in providers[name])
    }
    known = plain_python | wheel_packages | set(snapshot["ros_packages"]) | set(snapshot["neither"])
    unknown = set(imports) - own_packages() - known
    assert not unknown, f"imports not in the snapshot, regenerate it: {sorted(unknown)}"
    ros = {n for n in imports if n in snapshot["ros_packages"] or n in wheel_packages}
    runtime = set().union(
        *(package_dependencies(ROOT / "package.xml")[t] for t in ("depend", "exec_depend"))
    )
    missing = {name: str(imports[name].relative_to(ROOT)) for name in ros - runtime}
    assert not missing, f"imported but not an exec_depend of enachi_ros: {missing}"
    assert "enachi_interfaces" in runtime


def test_message_packages_used_by_msg_files_are_declared() -> None:
    """The .msg files reference other packages' types (std_msgs/Header...): rosidl needs them
    as <depend> of enachi_interfaces, or the generate step fails on a clean robot."""
    used = {
        m.group(1)
        for path in (ROOT / "msg").glob("*.msg")
        for m in re.finditer(r"^\s*([a-z_]+)/[A-Z]\w*", path.read_text(), re.M)
    }
    iface = package_dependencies(ROOT / "ros2_ws/src/enachi_interfaces/package.xml")
    assert used, "no package-qualified field types found in msg/"
    assert used <= iface["depend"], used - iface["depend"]
