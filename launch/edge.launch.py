"""The edge server: ENACHI scheduler + batched tail inference for all robots.

ros2 launch enachi_ros edge.launch.py robot_ids:=robot1,robot2,robot3 policy:=enachi
"""

from __future__ import annotations

from launch.actions import OpaqueFunction
from launch_ros.actions import LifecycleNode

from enachi_ros.ros.launch_args import (
    PACKAGE,
    SECURITY_ARGUMENTS,
    arg,
    dds_env_actions,
    declare,
    managed,
    params_file,
    physical_params,
    security,
    time_params,
    workload,
)
from enachi_ros.workloads import WORKLOAD_ARG
from launch import LaunchDescription

ARGUMENTS = {
    "robot_ids": ("robot1,robot2,robot3", "comma-separated ids (namespaces) of the robots served"),
    "workload": WORKLOAD_ARG,
    "policy": ("enachi", "scheduling policy of the core (enachi or a baseline)"),
    "model": ("", "registered split model (empty: the workload's)"),
    "fixed_split": ("", "split of the progressive_fixed baseline (empty: automatic)"),
    "energy_budget_j": ("", "long-term device energy budget E_bar per task (J); empty: the "
                        "parameter file's"),
    "params_file": ("", "parameter file (default: the workload's, share/enachi_ros/config/)"),
    "use_sim_time": ("false", "follow /clock (simulated time, e.g. Gazebo) instead of the "
                     "system clock"),
    "dds_profile": ("radio", "Fast DDS profile: dev | radio | system"),
    "log_level": ("info", "ROS log level"),
    **SECURITY_ARGUMENTS,
}


def _nodes(context) -> list:
    params = params_file(context, "edge")
    robot_ids = [r.strip() for r in arg(context, "robot_ids").split(",") if r.strip()]
    if not robot_ids:
        raise ValueError("robot_ids: expected at least one robot id, got an empty list")
    common = {"robot_ids": robot_ids, "model": arg(context, "model") or workload(context)["model"]}
    secure_env, secure_args = security(context)
    ros_args = ["--ros-args", "--log-level", arg(context, "log_level"), *secure_args]
    physical = physical_params(context)

    def node(executable: str, name: str, *overrides: dict) -> LifecycleNode:
        return LifecycleNode(
            package=PACKAGE,
            executable=executable,
            name=name,
            namespace="edge",
            parameters=[physical, params, common, time_params(context), *overrides],
            arguments=ros_args,
            output="screen",
        )

    return [
        *dds_env_actions(context),
        *secure_env,
        *managed(node("scheduler_node", "scheduler", _scheduler_overrides(context))),
        *managed(node("tail_node", "tail")),  # managed nodes: configured, then activated
    ]


def _scheduler_overrides(context) -> dict:
    overrides = {"policy": arg(context, "policy"), "fixed_split": arg(context, "fixed_split")}
    budget = arg(context, "energy_budget_j")
    if budget:
        try:
            overrides["energy_budget_j"] = float(budget)
        except ValueError:
            raise ValueError(
                f"energy_budget_j: expected a number of joules, got {budget!r}"
            ) from None
    return overrides


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([*declare(ARGUMENTS), OpaqueFunction(function=_nodes)])
