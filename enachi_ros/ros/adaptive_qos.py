"""A subscription whose reliability follows what the topic's publishers offer (rosbag2's rule).

Why: an external image topic (a Gazebo camera through ros_gz_bridge, a camera driver) is
published either BEST_EFFORT (``qos_profile_sensor_data``) or RELIABLE (the rclcpp/rclpy default,
KEEP_LAST 10). A BEST_EFFORT subscription matches both, but it turns a RELIABLE publisher's link
best-effort, and large frames do not survive that: Fast DDS sends a 640x480 rgb8 frame
(921,600 bytes) as ~15 fragments of ~64 KB, and with the stock shared-memory transport the
publisher recycles fragments of its 512 KiB segment before the subscriber has read them, so one
fragment and with it the whole frame is lost without a word (measured on Jazzy, on a shared
2-core machine: 11-62 % of such frames arrive; ``enachi bench external_images``). A RELIABLE
subscription gets the lost fragments re-sent (100 % measured) but does not match a BEST_EFFORT
publisher at all.

So, as ``ros2 bag record`` adapts its requests to the offers: RELIABLE when every publisher of
the topic offers RELIABLE, otherwise BEST_EFFORT (which matches every publisher); durability
VOLATILE always (live frames only, which every publisher can serve). The owner calls
:meth:`AdaptiveSubscription.update` periodically (the camera: every 0.25 s), which looks the
publishers up in the ROS graph and re-creates the subscription when the answer changes,
make-before-break: the new subscription is created first and the old one destroyed once
the new one has matched every publisher (at the latest ``RETIRE_AFTER_S`` later); a message that
both deliver during the overlap (same header stamp and frame_id) is passed on once. Without
publishers the current subscription stays as it is.

Messages that a BEST_EFFORT subscription misses are counted from the ``message_lost`` event
(Fast DDS reports the sequence numbers it skipped): ``lost``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

RELIABLE, BEST_EFFORT = ReliabilityPolicy.RELIABLE, ReliabilityPolicy.BEST_EFFORT
# The choices of a node parameter that picks the behaviour: adapt, or keep one reliability.
RELIABILITY_CHOICES: dict[str, ReliabilityPolicy | None] = {
    "adaptive": None, "best_effort": BEST_EFFORT, "reliable": RELIABLE}
RETIRE_AFTER_S = 2.0  # longest overlap of the old and the new subscription


def requested_reliability(offered: Sequence[ReliabilityPolicy],
                          current: ReliabilityPolicy) -> ReliabilityPolicy:
    """RELIABLE if every publisher offers RELIABLE, BEST_EFFORT if any does not, ``current``
    when there is no publisher (nothing to adapt to: keep what is there)."""
    if not offered:
        return current
    return RELIABLE if all(r == RELIABLE for r in offered) else BEST_EFFORT


def subscription_qos(reliability: ReliabilityPolicy, depth: int) -> QoSProfile:
    """What the adaptive subscription requests: KEEP_LAST ``depth``, VOLATILE."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=reliability,
                      durability=DurabilityPolicy.VOLATILE)


def reliability_name(reliability: ReliabilityPolicy) -> str:
    return "reliable" if reliability == RELIABLE else "best_effort"


def _header_key(msg: Any) -> tuple[int, int, str] | None:
    header = getattr(msg, "header", None)
    if header is None:
        return None
    return int(header.stamp.sec), int(header.stamp.nanosec), str(header.frame_id)


class AdaptiveSubscription:
    """One logical subscription to ``topic`` whose reliability follows the publishers.

    ``node.create_subscription`` / ``destroy_subscription`` are used as they are (a
    ``ManagedNode`` gates the callback on its lifecycle state). Call :meth:`update` periodically
    (a timer) and :meth:`destroy` when done.
    """

    def __init__(self, node: Any, msg_type: Any, topic: str, callback: Callable[[Any], None],
                 depth: int, type_name: str = "", fixed: ReliabilityPolicy | None = None) -> None:
        self.node, self.msg_type, self.callback, self.depth = node, msg_type, callback, depth
        self.fixed = fixed  # a reliability to keep whatever the publishers offer (no adapting)
        self.topic = node.resolve_topic_name(topic)
        self.type_name = type_name  # e.g. sensor_msgs/msg/Image: publishers of other types ignored
        self.lost = 0  # messages a BEST_EFFORT subscription missed (message_lost events)
        self.switches = 0
        self.offered: list[ReliabilityPolicy] = []
        self.other_types: list[str] = []  # types of publishers on the topic that do not match
        self._recent: deque[tuple[int, int, str]] = deque(maxlen=4 * depth + 16)
        self._retiring: list[tuple[Any, float]] = []  # (old subscription, destroy at the latest)
        self.reliability = fixed or requested_reliability(self._offers(), BEST_EFFORT)
        self.handle = self._subscribe(self.reliability)

    # ------------------------------------------------------------------------------------------
    def _offers(self) -> list[ReliabilityPolicy]:
        infos = self.node.get_publishers_info_by_topic(self.topic)
        same = [i for i in infos if not self.type_name or i.topic_type == self.type_name]
        self.other_types = sorted({i.topic_type for i in infos} - {self.type_name}) \
            if self.type_name else []
        self.offered = [i.qos_profile.reliability for i in same]
        return self.offered

    def _subscribe(self, reliability: ReliabilityPolicy) -> Any:
        events = SubscriptionEventCallbacks(message_lost=self._on_lost)
        return self.node.create_subscription(
            self.msg_type, self.topic, self._on_message,
            subscription_qos(reliability, self.depth), event_callbacks=events)

    def _on_lost(self, info: Any) -> None:
        self.lost += int(info.total_count_change)

    def _on_message(self, msg: Any) -> None:
        key = _header_key(msg)
        if key is not None:
            if self._retiring and key in self._recent:
                return  # the same message through the old and the new subscription
            self._recent.append(key)
        self.callback(msg)

    # ------------------------------------------------------------------------------------------
    def update(self) -> bool:
        """Re-read the publishers' offers; re-create the subscription if the request changes.
        Returns True when a new subscription was created."""
        offered = self._offers()
        self._retire(len(offered))
        wanted = self.fixed or requested_reliability(offered, self.reliability)
        if wanted == self.reliability:
            return False
        self._retiring.append((self.handle, time.monotonic() + RETIRE_AFTER_S))
        self.reliability, self.handle = wanted, self._subscribe(wanted)
        self.switches += 1
        self.node.get_logger().info(
            f"{self.topic}: publishers offer {sorted({reliability_name(r) for r in offered})}: "
            f"subscribing {reliability_name(wanted)}")
        return True

    def _retire(self, publishers: int) -> None:
        """Destroy old subscriptions once the current one has matched every publisher."""
        if not self._retiring:
            return
        matched = self.handle.get_publisher_count() >= publishers
        now = time.monotonic()
        keep = []
        for handle, deadline in self._retiring:
            if matched or now >= deadline:
                self.node.destroy_subscription(handle)
            else:
                keep.append((handle, deadline))
        self._retiring = keep

    def publisher_count(self) -> int:
        return len(self.offered)

    def destroy(self) -> None:
        for handle, _ in self._retiring:
            self.node.destroy_subscription(handle)
        self._retiring = []
        self.node.destroy_subscription(self.handle)
