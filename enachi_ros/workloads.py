"""What each live workload runs with: parameter files under config/, the model, the source.

``camera``: the labelled 160x160 camera frames and EfficientNet-Lite0
(``lite0_frames``) over an emulated Wi-Fi 6 uplink with Raspberry Pi 5 class robots;
``fmnist``: the small 28x28 Fashion-MNIST case kept for fast tests. ``distance_m`` and
``distance_step_m``: where the demo places robot 1 and each next robot from the access point.
Plain data (no ``launch`` import), shared by the launch files, bringup and the tests.
"""

from __future__ import annotations

WORKLOADS: dict[str, dict[str, str]] = {
    "camera": {"robot": "robot_camera.yaml", "edge": "edge_camera.yaml",
               "physical": "physical_camera.yaml", "model": "lite0_frames", "source": "frames",
               "distance_m": "10.0", "distance_step_m": "20.0"},  # 10, 30, 50 m: a hall
    "fmnist": {"robot": "robot.yaml", "edge": "edge.yaml", "physical": "physical.yaml",
               "model": "fmnist_resnet", "source": "fmnist",
               "distance_m": "50.0", "distance_step_m": "25.0"},  # 50, 75, 100 m: a yard
}
DEFAULT_WORKLOAD = "camera"  # `make demo`, `enachi reproduce`, the launch files' default
WORKLOAD_ARG = (DEFAULT_WORKLOAD,
                f"what runs: {' | '.join(WORKLOADS)} (parameter files, model, source)")
