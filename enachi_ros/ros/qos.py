"""QoS profiles of every stream (the table in README / ROS2_ON_PYPI.md), overridable by parameters.

Why these: feature packets are many, small and independently useful, so BEST_EFFORT with a
lifespan of the deadline (a late packet is worthless); results, reports and feedback are few and
must arrive, so RELIABLE; decisions are TRANSIENT_LOCAL so a robot that (re)joins gets the
current one. Liveliness leases detect a lost edge.
"""

from __future__ import annotations

from rclpy.duration import Duration
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    LivelinessPolicy,
    QoSProfile,
    ReliabilityPolicy,
)


def camera_qos(depth: int = 5) -> QoSProfile:
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.VOLATILE,
    )


def local_reliable_qos(depth: int = 10) -> QoSProfile:
    """Robot-local hand-offs (head -> transmitter): must not be lost."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.VOLATILE,
    )


def capture_record_qos(depth: int = 100) -> QoSProfile:
    """The camera's capture records (GroundTruth, one per frame): the outcomes' profile
    (reliable, deep, TRANSIENT_LOCAL), so a head or recorder that matches after capture started
    still gets a record of every frame and can account for it. Publisher and subscribers use it."""
    return outcome_qos(depth)


def feature_qos(depth: int = 64, lifespan_s: float = 0.1) -> QoSProfile:
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.VOLATILE,
        lifespan=Duration(seconds=lifespan_s),
    )


def feedback_qos(depth: int = 10) -> QoSProfile:
    return local_reliable_qos(depth)


def result_qos(depth: int = 10, lifespan_s: float = 2.0) -> QoSProfile:
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.VOLATILE,
        lifespan=Duration(seconds=lifespan_s),
    )


def outcome_qos(depth: int = 100) -> QoSProfile:
    """Recorded outcomes: RELIABLE, deep and TRANSIENT_LOCAL: a recorder (or a test) that matches
    the head's writer late, e.g. while a node is still starting, still gets every outcome."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )


def decision_qos() -> QoSProfile:
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )


def report_qos(depth: int = 10) -> QoSProfile:
    return local_reliable_qos(depth)


def heartbeat_qos(lease_s: float = 1.0) -> QoSProfile:
    """Edge heartbeat with an automatic liveliness lease: robots get liveliness-changed events."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.VOLATILE,
        liveliness=LivelinessPolicy.AUTOMATIC,
        liveliness_lease_duration=Duration(seconds=lease_s),
    )
