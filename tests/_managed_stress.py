"""A process shaped like a robot's group (three managed nodes, fast timers that publish, a
subscription), run by the project's process main; the SIGINT test stops it at random moments."""

from __future__ import annotations

import sys

from std_msgs.msg import Header

from enachi_ros.ros.lifecycle import ManagedNode
from enachi_ros.ros.spin import run_nodes


class Busy(ManagedNode):
    def __init__(self, index: int, **kwargs) -> None:
        super().__init__(f"busy{index}", **kwargs)

    def configure_node(self) -> None:
        self.pub = self.create_publisher(Header, "stress", 10)
        self.create_subscription(Header, "stress", lambda _m: None, 10)

    def activate_node(self) -> None:
        self.create_timer(0.002, lambda: self.pub.publish(Header(frame_id=self.get_name())))


if __name__ == "__main__":
    from rclpy.parameter import Parameter

    def build_autostarted(context):
        return [Busy(i, context=context, parameter_overrides=[Parameter("autostart", value=True)])
                for i in range(3)]

    print("starting", flush=True)
    sys.exit(run_nodes(build_autostarted, args=[]))
