"""Topic names, in one place, so nodes, launch files, bringup and tests agree.

Robot-side names are relative (they live under the robot's namespace, e.g. ``/robot1``); the
edge addresses a robot's topics with :func:`robot_topic`. Decisions are global.
"""

from __future__ import annotations

IMAGE = "camera/image"  # sensor_msgs/Image, robot-local
GROUND_TRUTH = "camera/ground_truth"  # GroundTruth, robot-local (data-set replay only)
ENCODED = "enachi/encoded"  # EncodedTask, robot-local head -> transmitter
FEATURES = "enachi/features"  # FeaturePacket, robot -> edge over the radio
FEEDBACK = "enachi/feedback"  # TaskFeedback, edge -> robot
RESULT = "enachi/result"  # InferenceResult from the edge (early stop / deadline)
OUTCOME = "enachi/outcome"  # InferenceResult: the ONE recorded outcome of every captured frame
ENERGY = "enachi/energy"  # EnergyReport, robot -> scheduler
CHANNEL = "enachi/channel"  # ChannelReport, robot -> scheduler
DECISIONS = "/enachi/decisions"  # SchedulerDecisionArray, scheduler -> all
EDGE_ALIVE = "/enachi/edge_alive"  # std_msgs/Header heartbeat with a liveliness lease
# std_msgs/Header, frame_id = robot id: a robot that hears the edge but holds no valid decision
# asks the scheduler to publish the current decisions again
DECISION_REQUEST = "/enachi/decision_request"


def robot_topic(robot_id: str, relative: str) -> str:
    """The absolute name of a robot's relative topic, e.g. ``/robot1/enachi/features``."""
    if not robot_id or "/" in robot_id.strip("/"):
        raise ValueError(f"robot_id: expected a single namespace token, got {robot_id!r}")
    return f"/{robot_id.strip('/')}/{relative}"
