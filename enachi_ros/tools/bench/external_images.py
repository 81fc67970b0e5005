"""``enachi bench external_images``: how many frames of an external camera topic reach the camera.

A separate plain rclpy process (``stock_image_publisher.py``: no enachi_ros code, no Fast DDS
profile variable, stock QoS) publishes WIDTHxHEIGHT rgb8 frames at RATE Hz for SECONDS, once
BEST_EFFORT (``qos_profile_sensor_data``) and once RELIABLE (KEEP_LAST 10). The real camera node
(``source:=topic``) runs in its own process as ``enachi bringup --processes per-node`` starts it
(loopback discovery, the ``--dds-profile`` environment) and publishes one capture record per
accepted frame; this process counts them. Printed per case, side by side: the publisher's
reliability, the camera's ``source_reliability`` and the subscription it chose, frames published,
frames accepted (and their share), frames the camera counted as lost in transport
(``message_lost``), rejected images, the camera's CPU seconds, and the load average (the machine
may be shared: CPU contention changes best-effort losses).

``--camera-qos best_effort`` gives the camera's QoS before it adapted to its publishers.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

TOPIC = "/bench/external/image_raw"
NAMESPACE = "/bench"
PUBLISHER = Path(__file__).with_name("stock_image_publisher.py")
# Variables that would give the stock publisher a Fast DDS profile: removed from its environment.
PROFILE_VARIABLES = ("FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE",
                     "RMW_FASTRTPS_USE_QOS_FROM_XML", "FASTDDS_BUILTIN_TRANSPORTS",
                     "RMW_FASTRTPS_PUBLICATION_MODE")


def add_bench_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("external_images", help="frames of an external image topic that "
                              "reach the camera (stock publisher, BE and RELIABLE)",
                              description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=20.0, help="publishing time per case")
    p.add_argument("--rate", type=float, default=10.0, help="frames per second")
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--publisher", default="best_effort,reliable",
                   help="publisher reliabilities to run, comma-separated")
    p.add_argument("--camera-qos", default="adaptive",
                   choices=("adaptive", "best_effort", "reliable"),
                   help="the camera's source_reliability parameter")
    p.add_argument("--dds-profile", default="dev",
                   help="the camera process's Fast DDS profile: dev | radio | system (set as "
                   "bringup sets them), or the name of a file in config/fastdds (e.g. "
                   "external_camera) or a path, set through both FASTRTPS_ and "
                   "FASTDDS_DEFAULT_PROFILES_FILE")
    p.add_argument("--domain-id", type=int, default=None,
                   help="ROS_DOMAIN_ID (default: 216..230 from the pid)")
    p.add_argument("--log-dir", type=Path, default=None, help="keep the camera's logs here")
    p.set_defaults(func=run)


@dataclass
class Case:
    publisher: str
    published: int = 0
    failed: int = 0
    accepted: int = 0
    lost: int = -1
    rejected: int = -1
    subscription: str = "?"
    camera_cpu_s: float = float("nan")
    load: float = float("nan")

    @property
    def share(self) -> float:
        return self.accepted / self.published if self.published else float("nan")


def ros_env(domain_id: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST", ROS_DOMAIN_ID=str(domain_id))
    env.pop("ROS_STATIC_PEERS", None)
    return env


def stock_env(domain_id: int) -> dict[str, str]:
    """The publisher's environment: loopback, the domain, and no Fast DDS profile at all."""
    env = ros_env(domain_id)
    for name in PROFILE_VARIABLES:
        env.pop(name, None)
    return env


def camera_profile_env(profile: str) -> dict[str, str]:
    """The camera process's profile variables: a ``dds_profile`` exactly as bringup and the
    launch files set it, else a profile file through the variable of either Fast DDS major
    version (2.x reads FASTRTPS_DEFAULT_PROFILES_FILE, 3.x FASTDDS_DEFAULT_PROFILES_FILE)."""
    from enachi_ros.paths import config_path
    from enachi_ros.ros.dds import DDS_PROFILES, dds_profile_env

    if profile in DDS_PROFILES:
        return dds_profile_env(profile)
    try:
        path = Path(profile) if profile.endswith(".xml") else \
            config_path("fastdds", f"{profile}.xml")
    except FileNotFoundError:
        path = Path(profile)
    if not path.is_file():
        raise SystemExit(f"--dds-profile: expected one of {', '.join(DDS_PROFILES)}, a profile "
                         f"name in config/fastdds or an XML file, got {profile!r}")
    return {"FASTRTPS_DEFAULT_PROFILES_FILE": str(path),
            "FASTDDS_DEFAULT_PROFILES_FILE": str(path)}


def camera_command(camera_qos: str, width: int = 160, height: int = 160) -> list[str]:
    params = {"source": "topic", "source_uri": TOPIC, "autostart": "true", "robot_id": "bench",
              "width": str(width), "height": str(height), "encoding": "rgb8",
              "source_reliability": camera_qos}
    return [sys.executable, "-m", "enachi_ros.nodes.camera", "--ros-args", "-r",
            f"__ns:={NAMESPACE}", *[x for k, v in params.items() for x in ("-p", f"{k}:={v}")]]


def publisher_command(reliability: str, seconds: float, rate: float, width: int,
                      height: int) -> list[str]:
    return [sys.executable, str(PUBLISHER), reliability, str(seconds), str(rate), str(width),
            str(height), TOPIC]


class Probe:
    """This process's view: the camera's capture records and its /diagnostics status."""

    def __init__(self, domain_id: int) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from enachi_interfaces.msg import GroundTruth

        from enachi_ros.ros import qos, topics

        self.rclpy = rclpy
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node("external_images_probe", context=self.context)
        self.stamps: set[tuple[int, int]] = set()
        self.status: dict[str, str] = {}
        self.records = self.node.create_subscription(
            GroundTruth, f"{NAMESPACE}/{topics.GROUND_TRUTH}",
            lambda m: self.stamps.add((m.header.stamp.sec, m.header.stamp.nanosec)),
            qos.capture_record_qos())
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 50)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)

    def _on_diagnostics(self, msg) -> None:
        for status in msg.status:
            if status.name == f"{NAMESPACE}/camera":
                self.status = {kv.key: kv.value for kv in status.values}

    def spin_for(self, seconds: float, until=lambda: False) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not until():
            self.executor.spin_once(timeout_sec=0.05)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()


def _stop(proc: subprocess.Popen, timeout: float = 15.0) -> float:
    """SIGINT the camera and reap it (SIGKILL after ``timeout``); its CPU seconds (user +
    system, all threads), from the kernel's accounting of the child."""
    if proc.poll() is not None:
        return float("nan")  # already reaped: no usage to read
    proc.send_signal(signal.SIGINT)
    end = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if time.monotonic() > end:
            proc.kill()
            end = float("inf")
        time.sleep(0.05)


def run_case(args: argparse.Namespace, publisher: str, domain_id: int) -> Case:
    """One publisher reliability: camera up, stock publisher run, records counted."""
    case = Case(publisher)
    camera_env = {**ros_env(domain_id), **camera_profile_env(args.dds_profile)}
    log_dir = args.log_dir or Path(os.environ.get("TMPDIR", "/tmp"))
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / f"external_images_camera_{publisher}_{os.getpid()}.log").open("w")
    probe = Probe(domain_id)
    camera = subprocess.Popen(camera_command(args.camera_qos), env=camera_env, stdout=log,
                              stderr=subprocess.STDOUT)
    pub = None
    try:
        probe.spin_for(30.0, until=lambda: probe.records.get_publisher_count() > 0)
        if probe.records.get_publisher_count() < 1:
            raise SystemExit(f"camera did not come up in 30 s; log {log.name}")
        pub = subprocess.Popen(
            publisher_command(publisher, args.seconds, args.rate, args.width, args.height),
            env=stock_env(domain_id), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        probe.spin_for(args.seconds + 60.0, until=lambda: pub.poll() is not None)
        out = pub.communicate(timeout=30)[0]
        probe.spin_for(2.0)  # the last capture records, one more diagnostics status
        words = out.split("PUBLISHED")[-1].split() if "PUBLISHED" in out else []
        if len(words) < 2:
            raise SystemExit(f"stock publisher failed:\n{out}")
        case.published, case.failed = int(words[0]), int(words[1])
        case.accepted = len(probe.stamps)
        case.lost = int(probe.status.get("frames_lost_in_transport", -1))
        case.rejected = int(probe.status.get("rejected total", -1))
        case.subscription = probe.status.get("subscription", "?")
        case.load = os.getloadavg()[0]
    finally:
        if pub is not None and pub.poll() is None:
            pub.kill()
            pub.wait()
        case.camera_cpu_s = _stop(camera)
        probe.close()
        log.close()
    return case


def run(args: argparse.Namespace) -> int:
    camera_profile_env(args.dds_profile)  # a bad name fails before anything starts
    domain_id = args.domain_id if args.domain_id is not None else 216 + os.getpid() % 15
    publishers = [p.strip() for p in args.publisher.split(",") if p.strip()]
    bad = sorted(set(publishers) - {"best_effort", "reliable"})
    if bad or not publishers:
        raise SystemExit(f"--publisher: expected best_effort and/or reliable, got {bad}")
    cases = [run_case(args, p, domain_id) for p in publishers]
    size = args.width * args.height * 3
    print(f"{args.width}x{args.height} rgb8 ({size:,} B) at {args.rate:g} Hz for "
          f"{args.seconds:g} s, stock rclpy publisher process -> camera node process "
          f"(source_reliability={args.camera_qos}, dds_profile={args.dds_profile}), "
          f"ROS_DOMAIN_ID {domain_id}, loopback")
    print(f"{'publisher':12s}{'subscription':>14s}{'published':>11s}{'accepted':>10s}"
          f"{'share':>8s}{'lost':>6s}{'rejected':>10s}{'camera cpu s':>14s}{'load 1m':>9s}")
    for c in cases:
        print(f"{c.publisher:12s}{c.subscription:>14s}{c.published:11d}{c.accepted:10d}"
              f"{c.share:8.1%}{c.lost:6d}{c.rejected:10d}{c.camera_cpu_s:14.1f}{c.load:9.2f}")
    return 0
