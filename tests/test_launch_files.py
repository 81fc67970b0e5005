"""Launch files evaluated against the stand-in launch modules: what they start really exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from enachi_ros.tools.launch_eval import declared_arguments, evaluate

ROOT = Path(__file__).resolve().parent.parent
LAUNCH = ROOT / "launch"


def console_scripts() -> dict[str, str]:
    text = (ROOT / "setup.py").read_text()
    nodes = dict(re.findall(r'"(\w+_node)": "([\w.]+:\w+)"', text))
    assert nodes, "no node console scripts found in setup.py"
    return nodes


def test_demo_starts_edge_and_every_robot() -> None:
    specs = evaluate(LAUNCH / "demo.launch.py", {"robots": "3"})
    fqns = [s.fqn for s in specs]
    assert fqns[:2] == ["/edge/scheduler", "/edge/tail"]
    for i in (1, 2, 3):
        assert {f"/robot{i}/camera", f"/robot{i}/head", f"/robot{i}/transmitter"} <= set(fqns)
    assert len(fqns) == len(set(fqns)) == 2 + 3 * 3
    scheduler = specs[0]
    assert scheduler.parameters["robot_ids"] == ["robot1", "robot2", "robot3"]
    seeds = {s.parameters["channel_seed"] for s in specs if s.name == "transmitter"}
    assert seeds == {1, 2, 3}


@pytest.mark.parametrize("launch_file", sorted(p.name for p in LAUNCH.glob("*.launch.py")))
def test_every_node_is_a_console_script_with_existing_parameter_files(launch_file: str) -> None:
    scripts = console_scripts()
    specs = evaluate(LAUNCH / launch_file)
    assert specs
    for spec in specs:
        assert spec.package == "enachi_ros"
        assert spec.executable in scripts, spec.executable
        for path in spec.parameter_files:
            assert Path(path).is_file(), path
            sections = yaml.safe_load(Path(path).read_text())
            assert f"/**/{spec.name}" in sections, f"{path} has no /**/{spec.name} section"


def test_console_script_targets_are_importable_functions() -> None:
    import importlib

    for name, target in console_scripts().items():
        module, func = target.split(":")
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            pytest.fail(f"{name}: {exc}")
        assert callable(getattr(mod, func)), name


@pytest.mark.parametrize("profile", ["dev", "radio"])
def test_dds_profile_argument_selects_the_profile_file(profile: str) -> None:
    for spec in evaluate(LAUNCH / "demo.launch.py", {"robots": "1", "dds_profile": profile}):
        assert spec.environment["FASTDDS_DEFAULT_PROFILES_FILE"].endswith(f"fastdds/{profile}.xml")


def test_bad_arguments_are_refused_with_their_name() -> None:
    with pytest.raises(ValueError, match="dds_profile"):
        evaluate(LAUNCH / "robot.launch.py", {"dds_profile": "wifi"})
    with pytest.raises(ValueError, match="robots"):
        evaluate(LAUNCH / "demo.launch.py", {"robots": "0"})
    with pytest.raises(ValueError, match="unknown launch argument"):
        evaluate(LAUNCH / "edge.launch.py", {"robtos": "3"})


def test_every_declared_argument_has_a_default_and_description() -> None:
    for path in LAUNCH.glob("*.launch.py"):
        args = declared_arguments(path)
        assert args and all(v is not None for v in args.values()), path.name


@pytest.mark.parametrize("workload", ["camera", "fmnist"])
def test_parameter_files_only_set_declared_parameters(workload: str) -> None:
    """A typo in a YAML key would be silently ignored by rclpy: catch it here."""
    import importlib

    from enachi_ros.workloads import WORKLOADS

    physical_file = ROOT / "config" / WORKLOADS[workload]["physical"]
    for spec in evaluate(LAUNCH / "demo.launch.py", {"robots": "1", "workload": workload}):
        module = importlib.import_module(console_scripts()[spec.executable].split(":")[0])
        declared = {p.name for p in getattr(module, "PARAMS", ())}
        if not declared:
            continue
        declared.add("use_sim_time")  # declared by rclpy's Node itself
        for path in spec.parameter_files:
            sections = yaml.safe_load(Path(path).read_text())
            own = sections.get(f"/**/{spec.name}", {}).get("ros__parameters", {})
            assert set(own) <= declared, f"{path} /**/{spec.name}: {sorted(set(own) - declared)}"
        physical = set(yaml.safe_load(physical_file.read_text()))
        # ^ shared radio/device values: each node declares the part it uses
        assert set(spec.parameters) - physical <= declared, sorted(set(spec.parameters) - declared)


def test_workload_selects_model_source_and_parameter_files() -> None:
    camera = {s.name: s for s in evaluate(LAUNCH / "demo.launch.py",
                                          {"robots": "1", "workload": "camera"})}
    assert camera["head"].parameters["model"] == "lite0_frames"
    assert camera["camera"].parameters["source"] == "frames"
    assert any(p.endswith("robot_camera.yaml") for p in camera["camera"].parameter_files)
    small = {s.name: s for s in evaluate(LAUNCH / "demo.launch.py",
                                          {"robots": "1", "workload": "fmnist"})}
    assert small["tail"].parameters["model"] == "fmnist_resnet"
    assert small["camera"].parameters["source"] == "fmnist"
    with pytest.raises(ValueError, match="workload"):
        evaluate(LAUNCH / "robot.launch.py", {"workload": "lidar"})


def test_the_node_stand_in_refuses_what_it_does_not_implement_by_name() -> None:
    from enachi_ros.tools.launch_eval.standins.launch_ros.actions import Node

    with pytest.raises(TypeError, match=r"\['condition', 'respawn'\] not implemented"):
        Node(package="enachi_ros", executable="tail_node", respawn=True, condition=None)


def test_the_lifecycle_stand_ins_refuse_what_they_do_not_implement() -> None:
    from enachi_ros.tools.launch_eval.standins.launch_ros.actions import LifecycleNode
    from enachi_ros.tools.launch_eval.standins.launch_ros.event_handlers import (
        OnStateTransition,
    )
    from enachi_ros.tools.launch_eval.standins.launch_ros.events.lifecycle import ChangeState

    with pytest.raises(TypeError, match="autostart"):  # not in Jazzy's launch_ros < 0.26.7
        LifecycleNode(package="enachi_ros", executable="tail_node", name="tail",
                      namespace="edge", autostart=True)
    with pytest.raises(TypeError, match="namespace"):  # required, as in the real action
        LifecycleNode(package="enachi_ros", executable="tail_node", name="tail")
    node = LifecycleNode(package="enachi_ros", executable="tail_node", name="tail",
                         namespace="edge")
    with pytest.raises(TypeError, match="handle_once"):
        OnStateTransition(target_lifecycle_node=node, entities=[], handle_once=True)
    with pytest.raises(ValueError, match="transition_id 9"):
        ChangeState(lifecycle_node_matcher=lambda _a: True, transition_id=9)


@pytest.mark.parametrize("launch_file", ["robot.launch.py", "edge.launch.py", "demo.launch.py"])
def test_every_node_is_managed_and_started_by_the_launch_file(launch_file) -> None:
    """Every node is a LifecycleNode that the launch file configures then activates; a camera
    only after its robot's head is active (its configure comes a round later)."""
    specs = evaluate(LAUNCH / launch_file, {})
    assert specs and all(s.managed for s in specs)
    for spec in specs:
        labels = [label for _, label in spec.transitions]
        assert labels == ["configure", "activate"], spec.fqn
        rounds = [r for r, _ in spec.transitions]
        assert rounds[1] == rounds[0] + 1
        if spec.name == "camera":
            head = next(s for s in specs if s.namespace == spec.namespace and s.name == "head")
            assert rounds[0] > head.transitions[-1][0]


def test_an_external_camera_runs_in_its_own_process_with_its_dds_profile() -> None:
    """image_topic: the camera subscribes to it under config/fastdds/external_camera.xml (large
    best-effort frames from a stock publisher survive), in its own process (``additional_env``,
    one process per node under ros2 launch; its own group under bringup), while the robot's
    other nodes keep the fleet's profile."""
    from enachi_ros.tools.bringup.plan import group_specs

    specs = evaluate(LAUNCH / "demo.launch.py", {"robots": "2", "image_topic": "/{robot_id}/cam"})
    cameras = [s for s in specs if s.name == "camera"]
    assert [s.parameters["source_uri"] for s in cameras] == ["/robot1/cam", "/robot2/cam"]
    assert {s.parameters["source"] for s in cameras} == {"topic"}
    for spec in specs:
        profile = spec.environment["FASTRTPS_DEFAULT_PROFILES_FILE"]
        assert profile == spec.environment["FASTDDS_DEFAULT_PROFILES_FILE"]
        assert profile.endswith("external_camera.xml" if spec.name == "camera" else "dev.xml")
    groups = {g.name: [s.name for s in g.specs] for g in group_specs(specs, "per-robot")}
    assert groups == {"edge": ["scheduler", "tail"], "robot1": ["head", "transmitter"],
                      "robot1.camera": ["camera"], "robot2": ["head", "transmitter"],
                      "robot2.camera": ["camera"]}
    plain = evaluate(LAUNCH / "robot.launch.py", {"dds_profile": "system", "image_topic": "/c"})
    assert all("FASTRTPS_DEFAULT_PROFILES_FILE" not in s.environment for s in plain)
