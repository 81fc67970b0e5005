"""The head refuses an image the model cannot take (another size or channel count) and records
the frame as dropped, naming why; it keeps running (a foreign 28x28 stream once killed a camera
workload head with a torch shape error)."""

from __future__ import annotations

import numpy as np
import pytest
from rclpy.lifecycle import TransitionCallbackReturn
from ros_env import ros_context

from enachi_ros.core.outcomes import DROPPED
from enachi_ros.nodes.head import HeadNode
from enachi_ros.ros.images import cv2_to_imgmsg

OFFSET = 16  # this file's ROS domain offset


@pytest.fixture
def head(monkeypatch):
    with ros_context(monkeypatch, OFFSET) as context:
        node = HeadNode(context=context)  # fmnist_resnet: 1 x 28 x 28
        assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
        yield node
        node.trigger_shutdown()
        node.destroy_node()


@pytest.mark.parametrize(("shape", "encoding"), [((64, 64), "mono8"), ((28, 28, 3), "rgb8"),
                                                 ((3, 3), "mono8")])
def test_an_image_of_another_size_is_dropped_by_name(head, shape, encoding) -> None:
    recorded = []
    head._record = lambda task, outcome, reason, now: recorded.append((outcome, reason))
    msg = cv2_to_imgmsg(np.zeros(shape, np.uint8), encoding)
    msg.header.stamp = head.get_clock().now().to_msg()
    head._on_image(msg)
    assert head.rejects.total == 1
    assert len(recorded) == 1 and recorded[0][0] == DROPPED
    assert "expected 28x28 with 1 channel(s)" in recorded[0][1]
    assert f"got {shape[1]}x{shape[0]} '{encoding}'" in recorded[0][1]
