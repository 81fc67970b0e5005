"""Issue 11, point 8: the secured fleet (``security:=true``).

The PyPI wheels' Fast DDS has no DDS-Security plugins (README, "Security"), so the secured mode
signs the control plane at the application layer (``ros.auth``) with an SROS2-layout keystore
(``enachi security keystore``). What is checked here:

- the keystore: SROS2's layout, S/MIME-signed governance and permissions that openssl verifies,
  the fleet policy in the permissions, a second run that adds robots without re-keying;
- every kind of forgery is refused by the authenticator, field by field;
- the launch files and bringup: ``security``/``keystore`` reach every node as its enclave, and a
  missing or broken keystore fails at start naming ``keystore``;
- over real DDS, real scheduler and head nodes with their enclaves: participants without the
  fleet's keys (none, another CA's), an insider without the permission, a replay and a tampered
  copy cannot get a SchedulerDecisionArray into the head nor an EnergyReport into the
  scheduler, while an authorized publisher can.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

import pytest

pytest.importorskip("cryptography")
rclpy = pytest.importorskip("rclpy")

from enachi_interfaces.msg import EnergyReport, SchedulerDecisionArray  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.lifecycle import TransitionCallbackReturn  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.serialization import deserialize_message, serialize_message  # noqa: E402

from enachi_ros.ros import qos, topics  # noqa: E402
from enachi_ros.ros.auth import Authenticator, SignedPublisher  # noqa: E402
from enachi_ros.ros.keystore import (  # noqa: E402
    ENCLAVE_FILES,
    load_fleet,
    parse_grants,
    signed_content,
)
from enachi_ros.ros.rejects import InputError  # noqa: E402
from enachi_ros.tools.launch_eval import evaluate  # noqa: E402
from enachi_ros.tools.security.create import create_keystore  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = 200 + os.getpid() % 16  # this file's ROS domains: 200..215
ENERGY = topics.robot_topic("robot1", topics.ENERGY)


@pytest.fixture(scope="module")
def keystores(tmp_path_factory) -> tuple[Path, Path]:
    """The fleet's keystore (robot1, robot2) and an outsider's, from another CA, with the very
    same enclave names."""
    base = tmp_path_factory.mktemp("keystores")
    create_keystore(base / "fleet", ["robot1", "robot2"])
    create_keystore(base / "foreign", ["robot1"])
    return base / "fleet", base / "foreign"


def _authenticator(keystore: Path, enclave: str) -> Authenticator:
    return Authenticator(load_fleet(keystore, enclave), domain_id=DOMAIN)


# ----------------------------------------------------------------------------- the keystore
def test_keystore_has_sros2s_layout_and_openssl_verifies_its_signatures(keystores) -> None:
    fleet, _ = keystores
    for enclave in ("edge", "operator", "robot1", "robot2"):
        folder = fleet / "enclaves" / "enachi" / enclave
        assert all((folder / name).is_file() for name in ENCLAVE_FILES), enclave
        assert (folder / "key.pem").stat().st_mode & 0o077 == 0  # owner only
    for name in ("ca.cert.pem", "identity_ca.cert.pem", "permissions_ca.cert.pem"):
        assert (fleet / "public" / name).is_file()
    assert (fleet / "private" / "ca.key.pem").stat().st_mode & 0o077 == 0
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to cross-check the S/MIME signatures")
    for signed in (fleet / "enclaves" / "governance.p7s",
                   fleet / "enclaves" / "enachi" / "robot1" / "permissions.p7s"):
        run = subprocess.run([openssl, "smime", "-verify", "-text", "-in", str(signed),
                              "-CAfile", str(fleet / "public" / "ca.cert.pem")],
                             capture_output=True, check=False)
        assert run.returncode == 0, run.stderr.decode()
        assert run.stdout.replace(b"\r\n", b"\n") == signed_content(signed.read_bytes()) \
            == signed.with_suffix(".xml").read_bytes()


def test_permissions_follow_the_fleet_policy(keystores) -> None:
    fleet, _ = keystores

    def grant(enclave: str):
        p7s = fleet / "enclaves" / "enachi" / enclave / "permissions.p7s"
        return parse_grants(signed_content(p7s.read_bytes()))[f"CN=/enachi/{enclave}"]

    robot, edge, operator = grant("robot1"), grant("edge"), grant("operator")
    for topic in ("rt/robot1/enachi/energy", "rt/robot1/enachi/channel",
                  "rt/robot1/enachi/features", "rt/enachi/decision_request"):
        assert robot.allows("publish", topic, DOMAIN), topic
    for topic in ("rt/robot2/enachi/energy", "rt/enachi/decisions", "rt/enachi/edge_alive"):
        assert not robot.allows("publish", topic, DOMAIN), topic
    for topic in ("rt/enachi/decisions", "rt/enachi/edge_alive", "rt/robot2/enachi/feedback",
                  "rt/robot2/enachi/result"):
        assert edge.allows("publish", topic, DOMAIN), topic
    assert not edge.allows("publish", "rt/robot1/enachi/energy", DOMAIN)
    assert edge.allows("subscribe", "rt/robot1/enachi/energy", DOMAIN)
    assert not operator.allows("publish", "rt/enachi/decisions", DOMAIN)
    assert operator.allows("publish", "rq/robot1/head/change_stateRequest", DOMAIN)


def test_a_second_run_adds_robots_and_keeps_the_ca_and_the_keys(tmp_path) -> None:
    first = create_keystore(tmp_path, ["robot1"])
    ca, key = (tmp_path / "public" / "ca.cert.pem").read_bytes(), \
        (tmp_path / "enclaves" / "enachi" / "robot1" / "key.pem").read_bytes()
    second = create_keystore(tmp_path, ["robot1", "robot2"])
    assert first.created == ["/enachi/edge", "/enachi/operator", "/enachi/robot1"]
    assert second.created == ["/enachi/robot2"]
    assert (tmp_path / "public" / "ca.cert.pem").read_bytes() == ca
    assert (tmp_path / "enclaves" / "enachi" / "robot1" / "key.pem").read_bytes() == key
    load_fleet(tmp_path, "/enachi/robot2")
    with pytest.raises(ValueError, match="robots: expected ids"):
        create_keystore(tmp_path, ["robot-3"])
    with pytest.raises(ValueError, match="robots: expected ids"):
        create_keystore(tmp_path, ["edge"])


# ----------------------------------------------------------------------------- the authenticator
def test_each_forgery_is_refused_by_the_field_it_breaks(keystores) -> None:
    fleet, foreign = keystores
    edge = _authenticator(fleet, "/enachi/edge")
    robot1, robot2 = (_authenticator(fleet, f"/enachi/robot{i}") for i in (1, 2))
    outsider = _authenticator(foreign, "/enachi/robot1")
    now = time.time_ns()
    report = EnergyReport(robot_id="robot1", task_id=3, total_energy_j=0.002)

    def refused(data: bytes, topic: str = ENERGY) -> str:
        with pytest.raises(InputError) as caught:
            edge.check(data, EnergyReport, topic)
        return caught.value.field

    genuine = robot1.sign(report, ENERGY, stream=1, sequence=now)
    assert edge.check(genuine, EnergyReport, ENERGY).total_energy_j == pytest.approx(0.002)
    assert refused(genuine) == "auth.sequence"  # replayed
    assert refused(serialize_message(EnergyReport(robot_id="robot1"))) == "auth.enclave"
    assert refused(outsider.sign(report, ENERGY, 1, now + 1)) == "auth.signature"  # other CA
    assert refused(robot2.sign(report, ENERGY, 1, now + 2)) == "auth.enclave"  # not its topic
    moved = topics.robot_topic("robot2", topics.ENERGY)
    assert refused(robot1.sign(report, ENERGY, 2, now + 3), moved) == "auth.enclave"
    tampered = bytearray(robot1.sign(report, ENERGY, 3, now + 4))
    tampered[40] ^= 0x01
    assert refused(bytes(tampered)) == "auth.signature"
    assert refused(robot1.sign(report, ENERGY, 4, now - 60_000_000_000)) == "auth.sequence"
    assert refused(b"\x00\x01\x00\x00" + bytes(7)) == "auth"
    decisions = SchedulerDecisionArray(frame_index=1)
    with pytest.raises(InputError, match="allow publishing /enachi/decisions"):
        robot1.check(robot1.sign(decisions, topics.DECISIONS, 5, now + 5),
                     SchedulerDecisionArray, topics.DECISIONS)
    assert robot1.check(edge.sign(decisions, topics.DECISIONS, 5, now + 6),
                        SchedulerDecisionArray, topics.DECISIONS).frame_index == 1


# ----------------------------------------------------------------------------- launch, bringup
def test_security_reaches_every_node_as_its_enclave(keystores) -> None:
    fleet, _ = keystores
    specs = evaluate(ROOT / "launch" / "demo.launch.py",
                     {"robots": "2", "workload": "fmnist", "security": "true",
                      "keystore": str(fleet)})
    for spec in specs:
        enclave = "/enachi/" + spec.namespace.strip("/")
        assert spec.environment["ENACHI_KEYSTORE"] == str(fleet.resolve()), spec.fqn
        assert spec.environment["ENACHI_ENCLAVE"] == enclave, spec.fqn
        assert spec.ros_args()[-2:] == ["--enclave", enclave], spec.fqn
    for spec in evaluate(ROOT / "launch" / "demo.launch.py", {"robots": "1"}):
        assert "ENACHI_KEYSTORE" not in spec.environment and "--enclave" not in spec.arguments


@pytest.mark.parametrize("arguments, message", [
    ({"security": "true"}, "keystore: expected the folder"),
    ({"security": "true", "keystore": "/nonexistent"}, "keystore: expected a folder written"),
    ({"security": "true", "robots": "3", "keystore": "FLEET"},
     "keystore: enclave /enachi/robot3 .* missing"),
    ({"security": "maybe", "keystore": "FLEET"}, "security: expected true or false"),
])
def test_a_bad_keystore_fails_the_launch_naming_it(keystores, arguments, message) -> None:
    fleet, _ = keystores
    arguments = {"robots": "1", **arguments}
    arguments["keystore"] = arguments.get("keystore", "").replace("FLEET", str(fleet))
    with pytest.raises(ValueError, match=message):
        evaluate(ROOT / "launch" / "demo.launch.py", arguments)


def test_bringup_flags_are_the_launch_arguments(keystores) -> None:
    from enachi_ros.tools.bringup.errors import BringupError
    from enachi_ros.tools.bringup.plan import launch_arguments, plan_specs

    fleet, _ = keystores
    flags = Namespace(arg=[], security="true", keystore=fleet, robots=1)
    arguments = launch_arguments(flags)
    assert arguments["security"] == "true" and arguments["keystore"] == str(fleet)
    with pytest.raises(BringupError, match="keystore: expected a folder written"):
        plan_specs(ROOT / "launch" / "demo.launch.py", {**arguments, "keystore": "/nonexistent"})


def test_a_node_started_with_a_broken_keystore_exits_naming_it(tmp_path) -> None:
    env = {**os.environ, "ROS_DOMAIN_ID": str(DOMAIN), "ROS_AUTOMATIC_DISCOVERY_RANGE":
           "LOCALHOST", "ENACHI_KEYSTORE": str(tmp_path), "ENACHI_ENCLAVE": "/enachi/edge"}
    run = subprocess.run([str(Path(sys.executable).parent / "scheduler_node")], env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 1
    assert "keystore: expected a folder written by `enachi security keystore`" in run.stderr


# ----------------------------------------------------------------------------- over real DDS
@pytest.fixture
def contexts(monkeypatch):
    """rclpy contexts (each its own DDS participant) on loopback in this file's domain."""
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    monkeypatch.setenv("ROS_DOMAIN_ID", str(DOMAIN))
    made: list = []

    def make():
        context = rclpy.Context()
        rclpy.init(context=context, domain_id=DOMAIN)
        made.append(context)
        return context

    yield make
    for context in made:
        context.try_shutdown()


def _managed(cls, context, authenticator, cli_args=None, **params):
    """A project node with its enclave's authenticator (the launch files give it through the
    environment; here two enclaves share one process), configured and activated."""
    node = cls(context=context, cli_args=cli_args,
               parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
    node.authenticator = authenticator
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS, node.configure_error
    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    return node


def test_unauthorized_participants_cannot_publish_into_a_secured_fleet(keystores,
                                                                      contexts) -> None:
    from enachi_ros.nodes.head import HeadNode
    from enachi_ros.nodes.scheduler import SchedulerNode

    fleet_keys, foreign = keystores
    fleet = contexts()
    executor = SingleThreadedExecutor(context=fleet)
    scheduler = _managed(SchedulerNode, fleet, _authenticator(fleet_keys, "/enachi/edge"),
                         robot_ids=["robot1"], frame_period_s=30.0)
    head = _managed(HeadNode, fleet, _authenticator(fleet_keys, "/enachi/robot1"),
                    cli_args=["--ros-args", "-r", "__ns:=/robot1"], robot_id="robot1")
    nodes = [scheduler, head]
    for node in nodes:
        executor.add_node(node)

    def spin_until(condition, seconds: float = 5.0) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not condition():
            executor.spin_once(timeout_sec=0.02)
        return condition()

    def rejected(node, topic: str) -> dict[str, int]:
        return {f: n for (t, f), n in node.rejects.counts.items() if t == topic}

    # The secured fleet works: the head holds the scheduler's signed decision.
    assert spin_until(lambda: head.decision is not None), "no decision reached the head"
    genuine = head.decision.frame_index

    # Participants of their own: an outsider (no keys, or another CA's), and the fleet's keys.
    outsider = rclpy.create_node("outsider", context=contexts())
    insider = rclpy.create_node("insider", context=contexts())
    try:
        def publisher(node, msg_type, topic, profile):
            pub = node.create_publisher(msg_type, topic, profile)
            assert spin_until(lambda: pub.get_subscription_count() >= 1), topic
            return pub

        raw_decisions: list[bytes] = []
        insider.create_subscription(SchedulerDecisionArray, topics.DECISIONS,
                                    raw_decisions.append, qos.decision_qos(), raw=True)
        spinner = SingleThreadedExecutor(context=insider.context)
        spinner.add_node(insider)
        end = time.monotonic() + 5.0
        while not raw_decisions and time.monotonic() < end:
            spinner.spin_once(timeout_sec=0.05)
        assert raw_decisions, "the scheduler's decision (TRANSIENT_LOCAL) was not seen"
        recorded = raw_decisions[0]

        def forged_decisions(frame_index: int) -> SchedulerDecisionArray:
            msg = deserialize_message(recorded, SchedulerDecisionArray)
            msg.frame_index = frame_index
            for d in msg.decisions:
                d.frame_index = frame_index  # otherwise valid: only the signature can tell
            msg.auth.enclave, msg.auth.signature = "", b""
            return msg

        outsider_decisions = publisher(outsider, SchedulerDecisionArray, topics.DECISIONS,
                                       qos.decision_qos())
        insider_decisions = publisher(insider, SchedulerDecisionArray, topics.DECISIONS,
                                      qos.decision_qos())
        edge_key = _authenticator(fleet_keys, "/enachi/edge")
        tampered = bytearray(edge_key.sign(forged_decisions(4245), topics.DECISIONS, 9,
                                           time.time_ns()))
        tampered[8] ^= 0x01  # a byte of the header stamp, after signing
        attempts = [
            ("auth.enclave", outsider_decisions, forged_decisions(4242)),  # unsigned
            ("auth.signature", SignedPublisher(outsider_decisions, _authenticator(
                foreign, "/enachi/edge")), forged_decisions(4243)),  # another CA's edge
            ("auth.enclave", SignedPublisher(insider_decisions, _authenticator(
                fleet_keys, "/enachi/robot2")), forged_decisions(4244)),  # no permission
            ("auth.sequence", outsider_decisions, recorded),  # replayed as recorded
            ("auth.signature", outsider_decisions, bytes(tampered)),
        ]
        for field, pub, msg in attempts:
            before = rejected(head, topics.DECISIONS).get(field, 0)
            pub.publish(msg)
            assert spin_until(lambda f=field, b=before: rejected(head, topics.DECISIONS)
                              .get(f, 0) > b), (field, rejected(head, topics.DECISIONS))
        assert head.decision.frame_index == genuine  # nothing forged was acted on
        from enachi_ros.ros.diagnostics import rejects_of

        on_diagnostics = rejects_of(head.diagnostics.status())
        assert sum(on_diagnostics[topics.DECISIONS].values()) == len(attempts)

        # ... and an authorized publisher (the fleet's edge key) does get through.
        SignedPublisher(insider_decisions, edge_key).publish(forged_decisions(777))
        assert spin_until(lambda: head.decision.frame_index == 777)

        # Energy reports into the scheduler: none of these counts; the robot's own does.
        def report(task_id: int, joules: float = 0.05) -> EnergyReport:
            """Within what a task can spend, well above the budget: Q would grow."""
            return EnergyReport(robot_id="robot1", task_id=task_id, compute_energy_j=joules,
                                total_energy_j=joules)

        outsider_reports = publisher(outsider, EnergyReport, ENERGY, qos.report_qos())
        insider_reports = publisher(insider, EnergyReport, ENERGY, qos.report_qos())
        robot1 = SignedPublisher(insider_reports, _authenticator(fleet_keys, "/enachi/robot1"))
        robot1.publish(report(1, joules=0.002))
        assert spin_until(lambda: scheduler.reports_received == 1)
        accepted_q = float(scheduler.queues.q[0])
        genuine_bytes = robot1.authenticator.sign(report(2), ENERGY, robot1.stream, 1)
        attempts = [
            ("auth.enclave", outsider_reports, report(10)),  # unsigned
            ("auth.signature", SignedPublisher(outsider_reports, _authenticator(
                foreign, "/enachi/robot1")), report(11)),  # another CA's robot1
            ("auth.enclave", SignedPublisher(insider_reports, _authenticator(
                fleet_keys, "/enachi/robot2")), report(12)),  # robot2 for robot1
            ("auth.enclave", SignedPublisher(insider_reports, _authenticator(
                fleet_keys, "/enachi/edge")), report(13)),  # the edge may not report energy
            ("auth.sequence", outsider_reports, genuine_bytes),  # signed long ago (1 ns)
        ]
        for field, pub, msg in attempts:
            before = rejected(scheduler, ENERGY).get(field, 0)
            pub.publish(msg)
            assert spin_until(lambda f=field, b=before: rejected(scheduler, ENERGY)
                              .get(f, 0) > b), (field, rejected(scheduler, ENERGY))
        assert scheduler.reports_received == 1
        assert float(scheduler.queues.q[0]) == accepted_q
        robot1.publish(report(2))
        assert spin_until(lambda: scheduler.reports_received == 2)
        assert float(scheduler.queues.q[0]) > accepted_q
    finally:
        for node in nodes:
            node.trigger_shutdown()
        executor.shutdown()
        for node in (*nodes, outsider, insider):
            node.destroy_node()


def test_the_cost_bench_runs_and_delivers_every_message() -> None:
    """``enachi bench security`` (its numbers are in the README), on a few messages."""
    env = {**os.environ, "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    run = subprocess.run([sys.executable, "-m", "enachi_ros.tools.cli", "bench", "security",
                          "--messages", "5", "--rounds", "2", "--rate", "100", "--domain-id",
                          str(DOMAIN)], env=env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = [line.split() for line in run.stdout.splitlines()
            if line.split()[:2] in (["SchedulerDecisionArray", "plain"],
                                    ["SchedulerDecisionArray", "signed"],
                                    ["EnergyReport", "plain"], ["EnergyReport", "signed"])]
    assert [row[2] for row in rows] == ["10/10"] * 4, run.stdout
    assert "signed costs" in run.stdout
