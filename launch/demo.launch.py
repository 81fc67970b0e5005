"""Single-host fleet demo: the edge plus N robots, all on this machine (dev DDS profile).

    ros2 launch enachi_ros demo.launch.py robots:=3 policy:=enachi

Without ``ros2 launch`` (PyPI ROS 2), ``enachi bringup`` runs the same configuration.
"""

from __future__ import annotations

import os

from launch.actions import IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource

from enachi_ros.ros.launch_args import (
    SECURITY_ARGUMENTS,
    arg,
    declare,
    launch_dir,
    workload,
)
from enachi_ros.workloads import WORKLOAD_ARG
from launch import LaunchDescription

ARGUMENTS = {
    "robots": ("3", "number of robots (robot1 .. robotN)"),
    "workload": WORKLOAD_ARG,
    "policy": ("enachi", "scheduling policy"),
    "fixed_split": ("", "split of the progressive_fixed baseline (empty: automatic)"),
    "energy_budget_j": ("", "long-term device energy budget E_bar per task (J); empty: "
                        "config/edge.yaml's"),
    "source": ("", "camera source of every robot (empty: the workload's)"),
    "frame_rate": ("", "camera frames per second per robot (empty: the workload's)"),
    "image_topic": ("", "external image topic of each robot, {robot_id} replaced by the robot's "
                    "id, e.g. /{robot_id}/camera/image_raw (empty: the cameras' own source)"),
    "residual_loss": ("", "packet loss of every robot's emulated radio on top of fading "
                      "outages, in [0, 1) (empty: the workload's)"),
    "use_sim_time": ("false", "follow /clock (simulated time, e.g. Gazebo) on every node"),
    "dds_profile": ("dev", "Fast DDS profile: dev | radio | system"),
    "log_level": ("info", "ROS log level"),
    **SECURITY_ARGUMENTS,
}


def _includes(context) -> list:
    count = int(arg(context, "robots"))
    if count < 1:
        raise ValueError(f"robots: expected an integer >= 1, got {count}")
    robot_ids = [f"robot{i}" for i in range(1, count + 1)]
    spot = workload(context)  # robot 1's distance from the access point, then each next one's
    first, step = float(spot["distance_m"]), float(spot["distance_step_m"])
    shared = {"dds_profile": arg(context, "dds_profile"), "log_level": arg(context, "log_level"),
              "workload": arg(context, "workload"), "use_sim_time": arg(context, "use_sim_time"),
              **{name: arg(context, name) for name in SECURITY_ARGUMENTS}}

    def include(file: str, arguments: dict[str, str]) -> IncludeLaunchDescription:
        source = PythonLaunchDescriptionSource(os.path.join(launch_dir(), file))
        return IncludeLaunchDescription(source, launch_arguments={**shared, **arguments}.items())

    edge = include(
        "edge.launch.py",
        {
            "robot_ids": ",".join(robot_ids),
            "policy": arg(context, "policy"),
            "fixed_split": arg(context, "fixed_split"),
            "energy_budget_j": arg(context, "energy_budget_j"),
        },
    )
    robots = [
        include(
            "robot.launch.py",
            {
                "robot_id": rid,
                "channel_seed": str(i),
                "distance_m": str(first + step * (i - 1)),
                "source": arg(context, "source"),
                "frame_rate": arg(context, "frame_rate"),
                "image_topic": arg(context, "image_topic").replace("{robot_id}", rid),
                "residual_loss": arg(context, "residual_loss"),
            },
        )
        for i, rid in enumerate(robot_ids, start=1)
    ]
    return [edge, *robots]


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([*declare(ARGUMENTS), OpaqueFunction(function=_includes)])
