"""One robot: camera -> head inference -> progressive transmitter, in the robot's namespace.

    ros2 launch enachi_ros robot.launch.py robot_id:=robot1 source:=fmnist dds_profile:=radio

Every node parameter that a field trial changes is a declared launch argument; everything else
comes from config/robot.yaml (sections keyed ``/**/<node>`` so they match under any namespace).
"""

from __future__ import annotations

from launch.actions import OpaqueFunction
from launch_ros.actions import Node

from enachi_ros.launch_support import (
    PACKAGE,
    arg,
    dds_env_actions,
    declare,
    params_file,
    physical_params,
)
from launch import LaunchDescription

ARGUMENTS = {
    "robot_id": ("robot1", "namespace and id of this robot"),
    "source": ("fmnist", "camera source: synthetic | folder | video | device | fmnist | topic"),
    "source_uri": ("", "folder, video file, device index or external image topic"),
    "frame_rate": ("5.0", "camera frames per second"),
    "model": ("fmnist_resnet", "registered split model"),
    "distance_m": ("60.0", "distance to the access point, for the emulated radio"),
    "channel_seed": ("1", "seed of this robot's emulated channel"),
    "params_file": ("", "parameter file (default: share/enachi_ros/config/robot.yaml)"),
    "dds_profile": ("radio", "Fast DDS profile: dev | radio | system"),
    "log_level": ("info", "ROS log level"),
}


def _nodes(context) -> list:
    params = params_file(context, "robot.yaml")
    robot_id = arg(context, "robot_id")
    common = {"robot_id": robot_id, "model": arg(context, "model")}
    camera = {
        "source": arg(context, "source"),
        "source_uri": arg(context, "source_uri"),
        "frame_rate": float(arg(context, "frame_rate")),
        "seed": int(arg(context, "channel_seed")),  # each robot replays its own sample order
    }
    radio = {
        "distance_m": float(arg(context, "distance_m")),
        "channel_seed": int(arg(context, "channel_seed")),
    }
    ros_args = ["--ros-args", "--log-level", arg(context, "log_level")]
    physical = physical_params()

    def node(executable: str, name: str, *overrides: dict) -> Node:
        return Node(
            package=PACKAGE,
            executable=executable,
            name=name,
            namespace=robot_id,
            parameters=[params, physical, common, *overrides],
            arguments=ros_args,
            output="screen",
        )

    return [
        *dds_env_actions(context),
        node("camera_node", "camera", camera),
        node("head_node", "head"),
        node("transmitter_node", "transmitter", radio),
    ]


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([*declare(ARGUMENTS), OpaqueFunction(function=_nodes)])
