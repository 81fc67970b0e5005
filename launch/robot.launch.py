"""One robot: camera -> head inference -> progressive transmitter, in the robot's namespace.

    ros2 launch enachi_ros robot.launch.py robot_id:=robot1 dds_profile:=radio

The nodes are managed (lifecycle) nodes: launch configures and activates the head and the
transmitter, and the camera once the head is active (``ros/launch_args.managed``).

Every node parameter that a field trial changes is a declared launch argument; everything else
comes from the workload's parameter file (config/robot_camera.yaml, or config/robot.yaml for
``workload:=fmnist``; sections keyed ``/**/<node>`` so they match under any namespace).
"""

from __future__ import annotations

from launch.actions import OpaqueFunction
from launch_ros.actions import LifecycleNode

from enachi_ros.ros.dds import external_camera_env
from enachi_ros.ros.launch_args import (
    PACKAGE,
    SECURITY_ARGUMENTS,
    arg,
    dds_env_actions,
    declare,
    managed,
    number,
    params_file,
    physical_params,
    security,
    time_params,
    workload,
)
from enachi_ros.workloads import WORKLOAD_ARG
from launch import LaunchDescription

ARGUMENTS = {
    "robot_id": ("robot1", "namespace and id of this robot"),
    "workload": WORKLOAD_ARG,
    "source": ("", "camera source: synthetic | folder | video | device | fmnist | frames | "
               "topic (empty: the workload's)"),
    "source_uri": ("", "folder, video file, device index or external image topic"),
    "image_topic": ("", "external sensor_msgs/Image topic to infer on (a Gazebo camera through "
                    "ros_gz_bridge, a camera driver); sets source:=topic"),
    "frame_rate": ("", "camera frames per second (empty: the parameter file's)"),
    "model": ("", "registered split model (empty: the workload's)"),
    "distance_m": ("60.0", "distance to the access point, for the emulated radio"),
    "channel_seed": ("1", "seed of this robot's emulated channel"),
    "params_file": ("", "parameter file (default: the workload's, share/enachi_ros/config/)"),
    "residual_loss": ("", "packet loss of the emulated radio on top of fading outages, in "
                      "[0, 1) (empty: the workload's physical parameters)"),
    "use_sim_time": ("false", "follow /clock (simulated time, e.g. Gazebo) instead of the "
                     "system clock"),
    "dds_profile": ("radio", "Fast DDS profile: dev | radio | system"),
    "log_level": ("info", "ROS log level"),
    **SECURITY_ARGUMENTS,
}


def _nodes(context) -> list:
    params = params_file(context, "robot")
    chosen = workload(context)
    robot_id = arg(context, "robot_id")
    common = {"robot_id": robot_id, "model": arg(context, "model") or chosen["model"]}
    image_topic = arg(context, "image_topic")
    camera = {
        "source": "topic" if image_topic else arg(context, "source") or chosen["source"],
        "source_uri": image_topic or arg(context, "source_uri"),
        "seed": int(arg(context, "channel_seed")),  # each robot replays its own sample order
    }
    if arg(context, "frame_rate"):
        camera["frame_rate"] = float(arg(context, "frame_rate"))
    radio = {
        "distance_m": float(arg(context, "distance_m")),
        "channel_seed": int(arg(context, "channel_seed")),
    }
    secure_env, secure_args = security(context, robot_id)
    ros_args = ["--ros-args", "--log-level", arg(context, "log_level"), *secure_args]
    physical = physical_params(context)
    loss = number(context, "residual_loss")
    if loss is not None:
        physical["residual_loss"] = loss

    def node(executable: str, name: str, *overrides: dict, env: dict | None = None
             ) -> LifecycleNode:
        return LifecycleNode(
            package=PACKAGE,
            executable=executable,
            name=name,
            namespace=robot_id,
            parameters=[physical, params, common, time_params(context), *overrides],
            arguments=ros_args,
            output="screen",
            additional_env=env or {},
        )

    # a camera on an external topic gets the DDS profile that keeps large best-effort frames
    # from a stock publisher (README, External cameras); the robot's other nodes keep theirs
    camera_env = (external_camera_env(arg(context, "dds_profile"))
                  if camera["source"] == "topic" else {})

    head = node("head_node", "head")
    return [
        *dds_env_actions(context),
        *secure_env,
        *managed(head),
        *managed(node("transmitter_node", "transmitter", radio)),
        *managed(node("camera_node", "camera", camera, env=camera_env),
                 after=head),  # frames once the head runs
    ]


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([*declare(ARGUMENTS), OpaqueFunction(function=_nodes)])
