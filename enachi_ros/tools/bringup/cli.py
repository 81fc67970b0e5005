"""``enachi bringup`` / ``enachi demo``: the command line of the bringup runner.

Arguments are mapped onto launch arguments (``--arg k=v`` and convenience flags), so a run here
is the run ``ros2 launch`` would make with the same arguments; ``run.py`` does the work.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from enachi_ros.tools.bringup.errors import BringupError
from enachi_ros.tools.bringup.plan import PROCESS_MODES
from enachi_ros.workloads import DEFAULT_WORKLOAD, WORKLOADS

DEMO_DEFAULTS = {"robots": 3, "policy": "enachi", "duration": 60.0}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bringup`` and ``demo`` (the same runner, demo defaults for the latter)."""
    for name, text in (
        ("bringup", "run a launch file's nodes without ros2 launch, record and summarize"),
        ("demo", "single-host fleet demo: edge + 3 robots, labelled camera frames and "
                 "EfficientNet-Lite0 over emulated Wi-Fi 6, 60 s"),
    ):
        parser = subparsers.add_parser(name, help=text, description=text)
        add_arguments(parser, demo=name == "demo")
        parser.set_defaults(func=main)


def add_arguments(parser: argparse.ArgumentParser, demo: bool = False) -> None:
    d = DEMO_DEFAULTS
    parser.add_argument("--launch", type=Path, default=None,
                        help="launch file to evaluate (default: launch/demo.launch.py)")
    parser.add_argument("--arg", action="append", default=[], metavar="K=V",
                        help="launch argument, repeatable (as `ros2 launch ... k:=v`)")
    parser.add_argument("--robots", type=int, default=d["robots"] if demo else None,
                        help="launch argument robots (number of robots)")
    parser.add_argument("--policy", default=d["policy"] if demo else None,
                        help="launch argument policy (scheduling policy)")
    parser.add_argument("--workload", default=None, choices=tuple(WORKLOADS),
                        help=f"launch argument workload (default {DEFAULT_WORKLOAD}; camera: "
                        "160 px frames and EfficientNet-Lite0; fmnist: the small 28x28 case)")
    parser.add_argument("--source", default=None,
                        help="launch argument source (camera source of every robot; default: "
                        "the workload's)")
    parser.add_argument("--frame-rate", type=float, default=None,
                        help="launch argument frame_rate (camera Hz)")
    parser.add_argument("--image-topic", default=None, metavar="TOPIC",
                        help="launch argument image_topic: infer on an external "
                        "sensor_msgs/Image topic (Gazebo through ros_gz_bridge, a camera driver); "
                        "{robot_id} is replaced by each robot's id, e.g. "
                        "/{robot_id}/camera/image_raw")
    parser.add_argument("--residual-loss", type=float, default=None, metavar="P",
                        help="launch argument residual_loss: packet loss of every robot's "
                        "emulated radio on top of fading outages, in [0, 1)")
    parser.add_argument("--use-sim-time", action="store_const", const="true", default=None,
                        help="launch argument use_sim_time:=true: every node follows /clock "
                        "(start the simulator's /clock publisher too)")
    parser.add_argument("--security", action="store_const", const="true", default=None,
                        help="launch argument security:=true: decisions and robot reports are "
                        "signed and verified with the keys of --keystore (README, Security)")
    parser.add_argument("--keystore", type=Path, default=None, metavar="DIR",
                        help="launch argument keystore: the folder `enachi security keystore` "
                        "wrote")
    parser.add_argument("--dds-profile", default="dev" if demo else None,
                        help="launch argument dds_profile: dev | radio | system")
    parser.add_argument("--duration", type=float, default=d["duration"] if demo else 30.0,
                        help="seconds of capture (0: until Ctrl-C)")
    parser.add_argument("--processes", choices=PROCESS_MODES, default="per-robot",
                        help="one process per namespace (default) or per node")
    parser.add_argument("--nodes", default="",
                        help="only start these node names, comma-separated (e.g. camera)")
    parser.add_argument("--max-frames", type=int, default=0,
                        help="camera max_frames of every robot (0 = unlimited)")
    parser.add_argument("--grace", type=float, default=2.0,
                        help="seconds to let in-flight frames finish after capture stops")
    parser.add_argument("--domain-id", type=int, default=None,
                        help="ROS_DOMAIN_ID (default: $ROS_DOMAIN_ID, else 1..100 from the pid)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default runs/<timestamp>)")
    parser.add_argument("--record-features", action="store_true",
                        help="also record feature packets in the MCAP file")
    parser.add_argument("--kill", action="append", default=[], metavar="GROUP@SECONDS",
                        help="fault injection: SIGKILL process GROUP (e.g. edge.tail with "
                        "--processes per-node, or edge) SECONDS after start; repeatable")
    parser.add_argument("--no-live", action="store_true", help="no live table; progress lines")
    parser.add_argument("--quiet", action="store_true", help="no progress and no final table")




def main(args: argparse.Namespace) -> int:
    try:
        from enachi_ros.tools.bringup.run import run

        result = run(args)
    except BringupError as exc:
        print(f"enachi {args.command}: error: {exc}", file=sys.stderr)
        return 2
    if result.failures:
        print(f"enachi {args.command}: {len(result.failures)} problem(s):", file=sys.stderr)
        for text in result.failures:
            print("  " + text.replace("\n", "\n    "), file=sys.stderr)
        return 1
    return 0
