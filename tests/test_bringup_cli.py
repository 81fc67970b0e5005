"""enachi bringup/demo: argument handling, spec planning and grouping, MCAP definitions, and a
real short camera-only run (processes, recorder, outputs, clean stop)."""

from __future__ import annotations

import array
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ros_env import isolated_ros_env

from enachi_ros.tools.bringup import cli, errors, plan, processes, startup
from enachi_ros.tools.cli import build_parser
from enachi_ros.tools.group import (
    MissingNodeError,
    check_executable,
    specs_from_json,
    specs_to_json,
)
from enachi_ros.tools.recording.mcap_log import (
    SEPARATOR,
    McapLog,
    dependencies,
    message_definition,
    msg_text,
    type_name_of,
)

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "launch" / "demo.launch.py"
OFFSET = 12  # this file's ROS domain offset


def test_demo_defaults_and_flags_become_launch_arguments() -> None:
    args = build_parser().parse_args(["demo"])
    assert (args.robots, args.policy, args.duration, args.source, args.dds_profile) == (
        3, "enachi", 60.0, None, "dev")
    assert args.processes == "per-robot" and args.func is cli.main
    assert plan.launch_arguments(args) == {  # the launch file's default workload decides
        "robots": "3", "policy": "enachi", "dds_profile": "dev"}
    args = build_parser().parse_args(["demo", "--workload", "fmnist"])
    assert plan.launch_arguments(args)["workload"] == "fmnist"
    args = build_parser().parse_args(
        ["bringup", "--arg", "robots=2", "--arg", "log_level=warn", "--robots", "4"])
    assert plan.launch_arguments(args) == {"robots": "4", "log_level": "warn"}
    args.arg = ["novalue"]
    with pytest.raises(errors.BringupError, match="--arg"):
        plan.launch_arguments(args)


def test_plan_filters_nodes_and_keeps_the_launch_files_lifecycle() -> None:
    specs = plan.plan_specs(DEMO, {"robots": "2"}, nodes="camera", max_frames=7)
    assert [s.fqn for s in specs] == ["/robot1/camera", "/robot2/camera"]
    assert {s.parameters["max_frames"] for s in specs} == {7}
    assert all(s.managed for s in specs)
    # the cameras are configured and activated after their heads are active (rounds 2, 3)
    assert {tuple(s.transitions) for s in specs} == {((2, "configure"), (3, "activate"))}
    assert [(label, [s.fqn for s in nodes]) for label, nodes in startup.rounds(specs)] == [
        ("configure", ["/robot1/camera", "/robot2/camera"]),
        ("activate", ["/robot1/camera", "/robot2/camera"])]
    assert plan.robot_ids_of(specs) == ["robot1", "robot2"]
    with pytest.raises(errors.BringupError, match="--nodes"):
        plan.plan_specs(DEMO, {}, nodes="lidar")
    with pytest.raises(errors.BringupError, match="unknown launch argument"):
        plan.plan_specs(DEMO, {"robotz": "2"})
    with pytest.raises(errors.BringupError, match="--launch"):
        plan.plan_specs(ROOT / "launch" / "nope.launch.py", {})


def test_missing_console_script_module_is_named() -> None:
    with pytest.raises(MissingNodeError, match="not_a_node"):
        check_executable("not_a_node")
    assert check_executable("camera_node") == "enachi_ros.nodes.camera"


def test_grouping_per_robot_and_per_node(tmp_path: Path) -> None:
    from enachi_ros.tools.launch_eval import evaluate

    specs = evaluate(DEMO, {"robots": "2"})
    per_robot = plan.group_specs(specs, "per-robot")
    assert [g.name for g in per_robot] == ["edge", "robot1", "robot2"]
    assert [s.name for s in per_robot[1].specs] == ["head", "transmitter", "camera"]
    per_node = plan.group_specs(specs, "per-node")
    assert len(per_node) == len(specs) and per_node[0].name == "edge.scheduler"
    plan.build_commands(per_robot[:1] + per_node[2:3], tmp_path, {"X": "1"})
    assert per_robot[0].command[1:3] == ["-m", "enachi_ros.tools.group"]
    assert specs_from_json(Path(per_robot[0].command[-1]).read_text()) == per_robot[0].specs
    assert Path(per_node[2].command[0]).name == "head_node"
    assert "--ros-args" in per_node[2].command and per_node[2].environment["X"] == "1"
    assert "FASTDDS_DEFAULT_PROFILES_FILE" in per_robot[0].environment  # dds_profile=dev
    assert specs_from_json(specs_to_json(specs)) == specs


def test_ros_environment_keeps_user_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROS_DOMAIN_ID", "42")
    monkeypatch.delenv("ROS_AUTOMATIC_DISCOVERY_RANGE", raising=False)
    assert plan.ros_environment(None) == {
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_DOMAIN_ID": "42"}
    assert plan.ros_environment(7)["ROS_DOMAIN_ID"] == "7"
    monkeypatch.delenv("ROS_DOMAIN_ID")
    assert 1 <= int(plan.ros_environment(None)["ROS_DOMAIN_ID"]) <= 100
    with pytest.raises(errors.BringupError, match="--domain-id"):
        plan.ros_environment(300)


def _same(decoded: object, original: object, path: str) -> None:
    """``decoded`` (mcap_ros2's dynamic message) holds what the rclpy ``original`` held."""
    if hasattr(original, "get_fields_and_field_types"):
        for name in original.get_fields_and_field_types():
            _same(getattr(decoded, name), getattr(original, name), f"{path}.{name}")
    elif isinstance(original, bytes | bytearray):
        assert bytes(decoded) == bytes(original), path
    elif isinstance(original, list | tuple | array.array):
        assert len(decoded) == len(original), path
        for i, (d, o) in enumerate(zip(decoded, original, strict=True)):
            _same(d, o, f"{path}[{i}]")
    else:
        assert decoded == original, (path, decoded, original)


def test_mcap_records_every_message_type_readably(tmp_path: Path) -> None:
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory
    from msg_fill import ENACHI_MESSAGES, fill, message_class
    from rclpy.serialization import deserialize_message

    text = message_definition("enachi_interfaces/msg/SchedulerDecisionArray")
    assert text.startswith(msg_text("enachi_interfaces", "SchedulerDecisionArray"))
    assert f"\n{SEPARATOR}\nMSG: std_msgs/Header\n" in text
    assert "MSG: enachi_interfaces/SchedulerDecision\n" in text
    assert text.count("MSG: builtin_interfaces/Time\n") == 1  # each dependency once
    assert dependencies("enachi_interfaces", "InferenceResult") == (
        "builtin_interfaces/Time", "std_msgs/Header")  # constants and comments are not types
    # Every type the recorder can record (all of enachi_interfaces), each filled with
    # non-default values in every field, written and read back.
    sent = {f"/t/{name}": fill(message_class("enachi_interfaces", name), seed=i + 3)
            for i, name in enumerate(ENACHI_MESSAGES)}
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

    sent["/diagnostics"] = DiagnosticArray(status=[DiagnosticStatus(  # a byte field (level)
        level=DiagnosticStatus.WARN, name="/robot1/head", message="m",
        values=[KeyValue(key="rejected /t bits", value="3")])])
    log = McapLog(tmp_path / "r.mcap")
    for i, (topic, msg) in enumerate(sent.items()):
        log.write(topic, msg, 10 + i)
    log.close()
    assert not log.errors and log.messages == len(sent)
    with (tmp_path / "r.mcap").open("rb") as handle:
        reader = make_reader(handle, decoder_factories=[DecoderFactory()])
        got = {ch.topic: (schema, message.data, decoded)
               for schema, ch, message, decoded in reader.iter_decoded_messages()}
    assert set(got) == set(sent)
    for topic, msg in sent.items():
        schema, raw, decoded = got[topic]
        assert schema.encoding == "ros2msg" and schema.name == type_name_of(msg)
        assert schema.data.decode() == message_definition(type_name_of(msg))
        assert deserialize_message(raw, type(msg)) == msg, topic  # the bytes rclpy would send
        if topic != "/diagnostics":  # mcap_ros2 0.6's decoder turns a byte field of value n
            _same(decoded, msg, topic)  # into bytes(n), n zero bytes: its bug, not the file's


def test_camera_only_bringup_runs_records_and_stops_cleanly(tmp_path: Path) -> None:
    env = isolated_ros_env(OFFSET)
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "enachi_ros.tools.cli", "bringup", "--launch", str(DEMO),
         "--robots", "2", "--nodes", "camera", "--source", "synthetic", "--frame-rate", "20",
         "--max-frames", "5", "--duration", "5", "--grace", "0.3", "--out", str(out),
         "--no-live"],
        check=False, env=env, capture_output=True, text=True, timeout=40)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["total"]["frames_captured"] == 10, proc.stderr  # max_frames per camera
    assert summary["robots"]["robot1"]["frames_captured"] == 5
    assert summary["total"]["frames_without_outcome"] == 10  # no heads were started
    assert summary["config"]["ros_domain_id"] == env["ROS_DOMAIN_ID"]
    assert summary["config"]["failures"] == []
    for name in ("tasks.csv", "captures.csv", "recording.mcap", "latency.png", "outcomes.png",
                 "accuracy_energy.png", "logs/robot1.log"):
        assert (out / name).is_file(), name
    assert "robot1" in proc.stdout and "total" in proc.stdout  # final table
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    assert str(out / "specs") not in ps.stdout  # no orphaned group process


def test_bringup_reports_a_missing_node_module_clearly(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from enachi_ros.tools import group

    real = group.check_executable

    def fake(executable: str) -> str:
        if executable == "head_node":
            raise MissingNodeError("head_node: its module enachi_ros.nodes.head does not exist")
        return real(executable)

    monkeypatch.setattr(group, "check_executable", fake)
    args = build_parser().parse_args(["bringup", "--launch", str(ROOT / "launch/robot.launch.py"),
                                      "--out", str(tmp_path)])
    assert cli.main(args) == 2


def test_stop_escalates_a_straggler_and_its_log_shows_where_it_hung(tmp_path: Path) -> None:
    """A process that ignores SIGINT gets SIGUSR1 (stack dump), then SIGTERM; both are recorded."""
    stuck = (
        "import faulthandler, signal, sys, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "faulthandler.register(signal.SIGUSR1, all_threads=True)\n"
        "def wedged_in_teardown():\n"
        "    while True:\n"
        "        time.sleep(0.01)\n"
        "print('ready', flush=True)\n"
        "wedged_in_teardown()\n"
    )
    polite = (  # Ctrl-C as usual, even when started from a shell that ignores SIGINT
        "import signal, time\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "print('ready', flush=True)\ntime.sleep(60)\n"
    )
    groups = [
        plan.Group("robot1.stuck", [], [sys.executable, "-c", stuck], {}),
        plan.Group("robot1.polite", [], [sys.executable, "-c", polite], {}),
    ]
    procs = processes.start(groups, tmp_path)
    logs = [tmp_path / "robot1.stuck.log", tmp_path / "robot1.polite.log"]
    log = logs[0]
    for _ in range(400):  # both past interpreter start-up (a signal during it is a race)
        if all("ready" in p.read_text() for p in logs):
            break
        time.sleep(0.05)
    processes.stop(procs, timeouts=(1.0, 3.0, 1.0))
    stuck_proc, polite_proc = procs
    assert polite_proc.stop_signal == "SIGINT" and polite_proc.popen.returncode != 0
    assert polite_proc.exit_s is not None and polite_proc.exit_s < 1.0
    assert stuck_proc.stop_signal == "SIGTERM"
    assert stuck_proc.popen.returncode == -signal.SIGTERM
    assert stuck_proc.exit_s is not None and stuck_proc.exit_s >= 1.0
    assert "wedged_in_teardown" in log.read_text()
