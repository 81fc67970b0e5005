"""Helpers shared by the launch files in launch/ (imported only by them: needs ``launch``).

Keeping these here instead of copying them into every launch file means the DDS profile
selection and argument declaration behave the same for robot, edge and demo launches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from launch.actions import DeclareLaunchArgument, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration

from enachi_ros.paths import share_dir
from enachi_ros.ros.dds import dds_profile_env
from enachi_ros.workloads import WORKLOADS

PACKAGE = "enachi_ros"


def declare(arguments: dict[str, tuple[str, str]]) -> list[DeclareLaunchArgument]:
    """One DeclareLaunchArgument per ``name: (default, description)``."""
    return [
        DeclareLaunchArgument(name, default_value=default, description=description)
        for name, (default, description) in arguments.items()
    ]


def arg(context, name: str) -> str:
    """The value of launch argument ``name`` in this context."""
    return LaunchConfiguration(name).perform(context)


def dds_env_actions(context) -> list[SetEnvironmentVariable]:
    """Environment actions selecting the Fast DDS profile named by ``dds_profile``."""
    return [
        SetEnvironmentVariable(k, v)
        for k, v in dds_profile_env(arg(context, "dds_profile")).items()
    ]


# ``security``/``keystore``: declared by every launch file (``**SECURITY_ARGUMENTS``).
SECURITY_ARGUMENTS = {
    "security": ("false", "true: every node signs and verifies scheduler decisions and robot "
                 "reports with its enclave's keys from keystore (README, Security)"),
    "keystore": ("", "the folder `enachi security keystore DIR --robots ...` wrote (needed with "
                 "security:=true)"),
}


def security(context, robot_id: str | None = None) -> tuple[list[SetEnvironmentVariable],
                                                             list[str]]:
    """``(environment actions, node ros arguments)`` for ``security:=true``, nothing otherwise.

    The enclave is the edge's (``robot_id`` None) or the robot's: ``ENACHI_KEYSTORE`` and
    ``ENACHI_ENCLAVE`` make its nodes sign and verify (``ros.auth``), and ``--enclave`` names it
    to rcl as well, so an apt ROS 2 with DDS-Security can use the same keystore through
    ``ROS_SECURITY_KEYSTORE``. The keystore is checked here: a missing or unusable one fails the
    launch with a ValueError naming ``keystore``, before any node starts.
    """
    from enachi_ros.ros.auth import ENCLAVE_ENV, KEYSTORE_ENV
    from enachi_ros.ros.keystore import EDGE_ENCLAVE, load_fleet, robot_enclave

    if not flag(context, "security"):
        return [], []
    folder = arg(context, "keystore").strip()
    if not folder:
        raise ValueError("keystore: expected the folder of `enachi security keystore` with "
                         "security:=true, got ''")
    keystore = Path(folder).expanduser().resolve()
    enclave = EDGE_ENCLAVE if robot_id is None else robot_enclave(robot_id)
    load_fleet(keystore, enclave)  # KeystoreError ("keystore: ...") names what is wrong
    env = [SetEnvironmentVariable(KEYSTORE_ENV, str(keystore)),
           SetEnvironmentVariable(ENCLAVE_ENV, enclave)]
    return env, ["--enclave", enclave]


def workload(context) -> dict[str, str]:
    """The ``workload`` launch argument's entry of ``WORKLOADS`` (ValueError naming it)."""
    name = arg(context, "workload")
    if name not in WORKLOADS:
        raise ValueError(f"workload: expected one of {list(WORKLOADS)}, got {name!r}")
    return WORKLOADS[name]


def params_file(context, role: str) -> str:
    """``params_file`` if given, else the workload's ``config/`` file for ``role``."""
    return arg(context, "params_file") or str(share_dir() / "config" / workload(context)[role])


def physical_params(context) -> dict:
    """The workload's physical.yaml: radio and device parameters shared by the scheduler and
    the robots.

    Passed as inline parameters (a dict), not as a parameter file, and listed first: a user's
    parameter file (``params_file``) that sets one of them, e.g. ``residual_loss`` in a robot's
    ``/**/transmitter`` section, wins over the workload's value, and a launch argument
    (``residual_loss:=0.3``) wins over both.
    """
    import yaml

    return yaml.safe_load((share_dir() / "config" / workload(context)["physical"]).read_text())


def flag(context, name: str) -> bool:
    """A true/false launch argument (ValueError naming it for anything else)."""
    value = arg(context, name).strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise ValueError(f"{name}: expected true or false, got {value!r}")
    return value in ("true", "1")


def number(context, name: str) -> float | None:
    """A numeric launch argument, None when empty (ValueError naming it otherwise)."""
    value = arg(context, name).strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name}: expected a number, got {value!r}") from None


def time_params(context) -> dict[str, bool]:
    """``use_sim_time`` for every node: with ``use_sim_time:=true`` the nodes' ROS clocks follow
    /clock (Gazebo's), and every deadline, latency and timeout with them."""
    return {"use_sim_time": flag(context, "use_sim_time")}


def launch_dir() -> str:
    return str(share_dir() / "launch")


def managed(node: Any, after: Any = None) -> list[Any]:
    """A LifecycleNode action and the transitions launch drives for it: configure at start, then
    activate as soon as it is configured. With ``after`` (another LifecycleNode), configure only
    once ``after`` is active, e.g. a camera after its robot's head, so the head is ready for
    the first frame. The idiom works with launch_ros on Jazzy and Kilted (no ``autostart=``,
    which Jazzy's launch_ros lacks before 0.26.7); ``start_state="configuring"`` keeps the
    activation from firing again after a lifecycle manager deactivates the node."""
    from launch.actions import EmitEvent, RegisterEventHandler
    from launch.events import matches_action
    from launch_ros.event_handlers import OnStateTransition
    from launch_ros.events.lifecycle import ChangeState
    from lifecycle_msgs.msg import Transition

    def change(target: Any, transition_id: int) -> Any:
        return EmitEvent(event=ChangeState(lifecycle_node_matcher=matches_action(target),
                                           transition_id=transition_id))

    configure = change(node, Transition.TRANSITION_CONFIGURE)
    actions: list[Any] = [
        node,
        RegisterEventHandler(OnStateTransition(
            target_lifecycle_node=node, start_state="configuring", goal_state="inactive",
            entities=[change(node, Transition.TRANSITION_ACTIVATE)])),
    ]
    if after is None:
        return [*actions, configure]
    return [*actions, RegisterEventHandler(OnStateTransition(
        target_lifecycle_node=after, start_state="activating", goal_state="active",
        entities=[configure]))]
