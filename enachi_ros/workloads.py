"""What each live workload runs with: parameter files under config/, the model, the source.

``camera``: the labelled 160x160 camera frames and EfficientNet-Lite0
(``lite0_frames``) over an emulated Wi-Fi 6 uplink with Raspberry Pi 5 class robots;
``fmnist``: the small 28x28 Fashion-MNIST case kept for fast tests. Plain data (no ``launch``
import), shared by the launch files, bringup and the tests.
"""

from __future__ import annotations

WORKLOADS: dict[str, dict[str, str]] = {
    "camera": {"robot": "robot_camera.yaml", "edge": "edge_camera.yaml",
               "physical": "physical_camera.yaml", "model": "lite0_frames", "source": "frames"},
    "fmnist": {"robot": "robot.yaml", "edge": "edge.yaml", "physical": "physical.yaml",
               "model": "fmnist_resnet", "source": "fmnist"},
}
# The camera workload becomes the default once its calibrated artifact is committed
# (enachi_ros/assets/lite0_frames/); until then a fresh clone's `make demo` runs fmnist.
DEFAULT_WORKLOAD = "fmnist"
WORKLOAD_ARG = (DEFAULT_WORKLOAD,
                f"what runs: {' | '.join(WORKLOADS)} (parameter files, model, source)")
