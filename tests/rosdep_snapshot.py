"""tests/data/rosdep_jazzy_noble.yaml: how rosdep resolves this repository's package.xml
dependencies and Python imports for ROS 2 Jazzy on Ubuntu 24.04 (noble), from a checkout of
ros/rosdistro; and the two readers of package.xml files and imports that the test shares.

Why a snapshot: rosdep and the rosdistro index are not reachable from CI, yet `rosdep install
--from-paths src` on a robot fails on the first name it cannot resolve (as `ament_python` did).
test_package_dependencies.py checks every dependency against this file, so adding one means
regenerating it here, against the rosdistro data, not guessing:

    git clone https://github.com/ros/rosdistro /tmp/rosdistro
    python tests/rosdep_snapshot.py /tmp/rosdistro > tests/data/rosdep_jazzy_noble.yaml
"""

from __future__ import annotations

import ast
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tests" / "data" / "rosdep_jazzy_noble.yaml"
# The code that runs on a robot: the package and its launch files.
CODE = (ROOT / "enachi_ros", ROOT / "launch")
PACKAGE_XMLS = (ROOT / "package.xml", ROOT / "ros2_ws/src/enachi_interfaces/package.xml")
DEPENDENCY_TAGS = (
    "depend", "build_depend", "buildtool_depend", "exec_depend", "test_depend",
    "build_export_depend", "buildtool_export_depend", "doc_depend",
)
DISTRO, OS_NAME, OS_CODENAME = "jazzy", "ubuntu", "noble"
# Recorded although nothing lists it, as evidence of why no package.xml may.
ALSO_RECORD = ("ament_python",)


def package_dependencies(path: Path) -> dict[str, set[str]]:
    """Dependency tag -> names, of one package.xml."""
    root = ET.parse(path).getroot()
    return {tag: {(e.text or "").strip() for e in root.iter(tag)} for tag in DEPENDENCY_TAGS}


def own_packages() -> set[str]:
    return {ET.parse(p).getroot().findtext("name") for p in PACKAGE_XMLS}


def code_imports() -> dict[str, Path]:
    """Top-level module -> first file importing it, over every import statement of the code
    (also those inside functions and try blocks), the standard library and relative imports
    left out."""
    found: dict[str, Path] = {}
    for folder in CODE:
        for path in sorted(folder.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names:
                        found.setdefault(top, path)
    return found


def declared_names() -> set[str]:
    """Every dependency name of both package.xml files, the packages themselves left out."""
    names = set().union(*(set().union(*package_dependencies(p).values()) for p in PACKAGE_XMLS))
    return names - own_packages()


def released_packages(distribution: dict) -> dict[str, str]:
    """ROS package name -> repository, for every package released into the distribution."""
    out = {}
    for repo, entry in distribution["repositories"].items():
        release = entry.get("release")
        if release:
            for name in release.get("packages", [repo]):
                out[name] = repo
    return out


def resolve(rule: object) -> dict[str, list[str]] | None:
    """The installer and packages of one rosdep rule for Ubuntu noble (None: unavailable)."""
    if isinstance(rule, dict) and OS_CODENAME in rule:
        rule = rule[OS_CODENAME]
    elif isinstance(rule, dict) and "*" in rule:
        rule = rule["*"]
    if rule is None:
        return None
    if isinstance(rule, list):
        return {"apt": rule}
    installers = {}
    for installer in ("apt", "pip", "source"):
        if installer in rule:
            spec = rule[installer]
            installers[installer] = spec.get("packages", []) if isinstance(spec, dict) else spec
    if "packages" in rule:
        installers["apt"] = rule["packages"]
    return installers or None


def main(checkout: Path) -> None:
    rules: dict = {}
    for name in ("base", "python"):
        rules.update(yaml.safe_load((checkout / "rosdep" / f"{name}.yaml").read_text()))
    released = released_packages(
        yaml.safe_load((checkout / DISTRO / "distribution.yaml").read_text())
    )
    ros_packages, keys, neither = {}, {}, []
    declared = declared_names() | set(ALSO_RECORD)
    for name in sorted(declared | (set(code_imports()) - own_packages())):
        if name in released:
            ros_packages[name] = released[name]
        elif name in declared and name in rules and (found := resolve(rules[name].get(OS_NAME))):
            keys[name] = found
        else:
            neither.append(name)
    commit, date = subprocess.run(
        ["git", "-C", str(checkout), "log", "-1", "--format=%H %cs"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    sys.stdout.write(
        f"# Generated by tests/rosdep_snapshot.py from ros/rosdistro {commit} ({date}):\n"
        f"# {DISTRO}/distribution.yaml (released packages) and rosdep/base.yaml + python.yaml\n"
        f"# (system keys, resolved for {OS_NAME} {OS_CODENAME}). Do not edit by hand.\n"
    )
    yaml.safe_dump(
        {
            "source": {"repository": "ros/rosdistro", "commit": commit, "date": date},
            "distro": DISTRO,
            "os": f"{OS_NAME}:{OS_CODENAME}",
            "ros_packages": ros_packages,
            "rosdep_keys": keys,
            # Neither a released package nor (for package.xml names) a key: Python imports of
            # non-ROS modules, and names that `rosdep install` cannot resolve.
            "neither": neither,
        },
        sys.stdout,
        sort_keys=False,
        default_flow_style=None,
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
