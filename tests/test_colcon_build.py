"""`make colcon` builds ros2_ws/ with colcon against this venv's ROS wheels, as a robot builds
it against /opt/ros/<distro>, and the install tree holds what `ros2 run`, `ros2 launch` and
other packages look up: the ament index entries, share/enachi_ros/{launch,config}, the node
executables in lib/enachi_ros (with a shebang that can import rclpy), and message modules that
import from install/ once install/setup.bash is sourced.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from venv_env import foreign_env

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(900)  # the first test builds: colcon's venv and both packages
def node_executables() -> list[str]:
    """The console scripts setup.py declares as nodes (its NODES table)."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "NODES":
            return sorted(ast.literal_eval(node.value))
    raise AssertionError("setup.py has no NODES table")


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    marker = Path(sys.prefix, "ros-distro")
    if not marker.is_file():
        pytest.skip("this venv was not built by `make setup` (no ros-distro marker)")
    if shutil.which("cmake") is None or shutil.which("make") is None:
        pytest.skip("cmake/make not installed")
    out = tmp_path_factory.mktemp("colcon")
    result = subprocess.run(
        ["make", "--no-print-directory", "colcon", f"VENV={sys.prefix}",
         f"ROS_DISTRO={marker.read_text().strip()}", f"COLCON_OUT={out}"],
        cwd=ROOT, env=foreign_env(), capture_output=True, text=True, timeout=900, check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    return out / "install"


def test_ament_index_share_and_launch_files(install: Path) -> None:
    for package in ("enachi_ros", "enachi_interfaces"):
        index = install / package / "share/ament_index/resource_index/packages" / package
        assert index.is_file(), index
        assert (install / package / "share" / package / "package.xml").is_file()
    share = install / "enachi_ros/share/enachi_ros"
    for folder, patterns in (("launch", ("*.launch.py",)), ("config", ("**/*.yaml", "**/*.xml"))):
        tree = {str(p.relative_to(ROOT)) for pat in patterns for p in ROOT.glob(f"{folder}/{pat}")}
        installed = {str(p.relative_to(share)) for p in (share / folder).rglob("*") if p.is_file()}
        assert tree, folder
        assert tree <= installed, sorted(tree - installed)


def test_node_executables_run_with_a_python_that_has_rclpy(install: Path) -> None:
    lib = install / "enachi_ros/lib/enachi_ros"
    for name in node_executables():
        exe = lib / name
        assert exe.is_file() and os.access(exe, os.X_OK), exe
        interpreter = exe.read_text().splitlines()[0].removeprefix("#!").strip()
        assert Path(interpreter).resolve() == Path(sys.executable).resolve(), (name, interpreter)


def test_messages_and_entry_points_load_from_install(install: Path) -> None:
    """In a shell that sourced install/setup.bash, as on a robot: the message modules, the
    package share directories and the nodes' entry points all come from install/, and every
    message serializes through the typesupport libraries built there."""
    script = f"""
import json, importlib.metadata as md, enachi_interfaces, enachi_interfaces.msg as msgs
from ament_index_python.packages import get_package_share_directory as share
from rclpy.serialization import deserialize_message, serialize_message
names = {sorted(p.stem for p in (ROOT / "msg").glob("*.msg"))!r}
ok = [n for n in names if deserialize_message(serialize_message(getattr(msgs, n)()),
      getattr(msgs, n)) == getattr(msgs, n)()]
eps = {{e.name: e for e in md.entry_points(group="console_scripts")}}
import enachi_ros
print(json.dumps({{"module": enachi_interfaces.__file__, "ok": ok, "names": names,
  "package": enachi_ros.__file__,
  "share": [share("enachi_ros"), share("enachi_interfaces")],
  "nodes": {{n: eps[n].load().__module__ for n in {node_executables()!r}}}}}))
"""
    result = subprocess.run(
        ["bash", "-c", f'source "{install}/setup.bash" && exec "{sys.executable}" -c "$0"', script],
        env=foreign_env(), capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["module"].startswith(str(install / "enachi_interfaces")), found["module"]
    assert found["package"].startswith(str(install / "enachi_ros")), found["package"]
    assert found["ok"] == found["names"]
    assert found["share"] == [str(install / p / "share" / p)
                              for p in ("enachi_ros", "enachi_interfaces")]
    assert all(module.startswith("enachi_ros.nodes.") for module in found["nodes"].values())
