"""ros/adaptive_qos.py: the reliability rule (rosbag2's) and the make-before-break re-subscription,
against a stand-in node (the real one over DDS: tests/test_camera_node.py)."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st
from rclpy.qos import DurabilityPolicy
from sensor_msgs.msg import Image

from enachi_ros.ros import adaptive_qos
from enachi_ros.ros.adaptive_qos import (
    BEST_EFFORT,
    RELIABLE,
    AdaptiveSubscription,
    requested_reliability,
)

policies = st.sampled_from([RELIABLE, BEST_EFFORT])


@given(offered=st.lists(policies, max_size=6), current=policies)
def test_reliable_only_when_every_publisher_offers_it(offered, current) -> None:
    wanted = requested_reliability(offered, current)
    if not offered:
        assert wanted == current  # nothing to adapt to
    else:
        assert (wanted == RELIABLE) == all(r == RELIABLE for r in offered)


class FakeSubscription:
    def __init__(self, qos, callback) -> None:
        self.qos, self.callback, self.matched, self.destroyed = qos, callback, 0, False

    def get_publisher_count(self) -> int:
        return self.matched


class FakeNode:
    """What AdaptiveSubscription uses of a node, with publishers set by the test."""

    def __init__(self) -> None:
        self.offers: list = []
        self.subscriptions: list[FakeSubscription] = []
        self.logged: list[str] = []

    def resolve_topic_name(self, topic: str) -> str:
        return topic

    def get_publishers_info_by_topic(self, topic: str) -> list:
        return [SimpleNamespace(qos_profile=SimpleNamespace(reliability=r), topic_type=t)
                for r, t in self.offers]

    def create_subscription(self, msg_type, topic, callback, qos, event_callbacks=None):
        sub = FakeSubscription(qos, callback)
        self.subscriptions.append(sub)
        return sub

    def destroy_subscription(self, sub) -> bool:
        sub.destroyed = True
        return True

    def get_logger(self):
        return SimpleNamespace(info=self.logged.append)

    def live(self) -> list[FakeSubscription]:
        return [s for s in self.subscriptions if not s.destroyed]


def frame(sec: int) -> Image:
    msg = Image()
    msg.header.stamp.sec, msg.header.frame_id = sec, "cam"
    return msg


def test_resubscribes_make_before_break_and_passes_each_frame_once() -> None:
    node, got = FakeNode(), []
    image = "sensor_msgs/msg/Image"
    sub = AdaptiveSubscription(node, Image, "/cam", got.append, 5, image)
    assert sub.reliability == BEST_EFFORT  # no publisher yet: matches any
    first = node.live()[0]
    assert first.qos.durability == DurabilityPolicy.VOLATILE and first.qos.depth == 5

    node.offers = [(RELIABLE, image), (BEST_EFFORT, "std_msgs/msg/String")]  # other type ignored
    assert sub.update() and sub.reliability == RELIABLE
    assert sub.other_types == ["std_msgs/msg/String"]
    old, new = node.subscriptions
    assert not old.destroyed  # kept until the new one has matched the publisher
    old.callback(frame(1))
    new.callback(frame(1))  # the same frame through both: passed on once
    new.callback(frame(2))
    assert [m.header.stamp.sec for m in got] == [1, 2]
    new.matched = 1
    assert not sub.update()
    assert old.destroyed and node.live() == [new]
    new.callback(frame(2))  # no overlap any more: a repeated header is not filtered
    assert len(got) == 3

    node.offers.append((BEST_EFFORT, image))  # one best-effort publisher: BEST_EFFORT for all
    assert sub.update() and sub.reliability == BEST_EFFORT and sub.switches == 2
    node.offers = []  # publishers gone: keep what is there
    assert not sub.update() and sub.reliability == BEST_EFFORT


def test_an_old_subscription_is_dropped_after_the_overlap_limit(monkeypatch) -> None:
    node = FakeNode()
    node.offers = [(RELIABLE, "sensor_msgs/msg/Image")]
    sub = AdaptiveSubscription(node, Image, "/cam", lambda m: None, 5)
    assert sub.reliability == RELIABLE and len(node.subscriptions) == 1
    node.offers = [(BEST_EFFORT, "sensor_msgs/msg/Image")]
    now = [100.0]
    monkeypatch.setattr(adaptive_qos.time, "monotonic", lambda: now[0])
    assert sub.update()
    old, _ = node.subscriptions
    sub.update()
    assert not old.destroyed  # the new one has not matched yet
    now[0] += adaptive_qos.RETIRE_AFTER_S
    sub.update()
    assert old.destroyed
    sub.destroy()
    assert node.live() == []


def test_fixed_reliability_never_adapts() -> None:
    node = FakeNode()
    node.offers = [(BEST_EFFORT, "sensor_msgs/msg/Image")]
    sub = AdaptiveSubscription(node, Image, "/cam", lambda m: None, 5, fixed=RELIABLE)
    assert sub.reliability == RELIABLE and not sub.update() and len(node.subscriptions) == 1
