"""The Fast DDS profiles in config/fastdds load cleanly and carry large best-effort samples."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from enachi_ros.ros.dds import DDS_PROFILES, dds_profile_env

HERE = Path(__file__).resolve().parent

_SUBSCRIBER = """
import sys, time, rclpy
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
rclpy.init(); node = rclpy.create_node('large_subscriber'); got = set()
qos = qos_profile_sensor_data
node.create_subscription(Image, 'large', lambda m: got.add(m.header.frame_id), qos)
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end and len(got) < int(sys.argv[2]):
    rclpy.spin_once(node, timeout_sec=0.05)
print('RECEIVED', len(got)); node.destroy_node(); rclpy.shutdown()
"""


def test_unknown_profile_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="dds_profile"):
        dds_profile_env("wifi6")


def test_profiles_exist_and_system_changes_nothing() -> None:
    assert dds_profile_env("system") == {}
    for name in ("dev", "radio"):
        env = dds_profile_env(name)  # both names: Fast DDS 2.x (Jazzy) reads only FASTRTPS_
        assert Path(env["FASTDDS_DEFAULT_PROFILES_FILE"]).is_file()
        assert env["FASTRTPS_DEFAULT_PROFILES_FILE"] == env["FASTDDS_DEFAULT_PROFILES_FILE"]
    assert dds_profile_env("radio")["RMW_FASTRTPS_USE_QOS_FROM_XML"] == "1"
    assert set(DDS_PROFILES) == {"dev", "radio", "system"}


def _jazzy() -> bool:
    from importlib.metadata import version

    return version("ros-rclpy").startswith("7.")


# 1 MB best-effort samples arrive on both distros with the dev profile. They were lost on Jazzy
# until the profile was selected through FASTRTPS_DEFAULT_PROFILES_FILE, the only name Fast DDS
# 2.14 reads (it had been set under Fast DDS 3's FASTDDS_ name only, so Jazzy ran without it).


@pytest.mark.parametrize(
    ("profile", "size", "min_fraction"),
    [("dev", 1_000_000, 0.9), ("dev", 400_000, 0.9),
     ("radio", 20_000, 0.9)],  # radio: below its 2.5 MB/s flow cap,
)
def test_profile_delivers_large_best_effort_samples(
    profile: str, size: int, min_fraction: float
) -> None:
    pytest.importorskip("rclpy")
    from ros_env import isolated_ros_env

    offset = 1 + DDS_PROFILES.index(profile)
    env = isolated_ros_env(offset, **dds_profile_env(profile))
    count = 40
    sub = subprocess.Popen(
        [sys.executable, "-c", _SUBSCRIBER, "15", str(count)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    pub = subprocess.run(
        [sys.executable, str(HERE / "_large_publisher.py"), str(size), str(count), "20"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out, err = sub.communicate(timeout=60)
    logs = err + pub.stderr
    assert "XMLPARSER" not in logs and "Error" not in logs, logs
    received = int(out.split("RECEIVED")[-1])
    assert received >= min_fraction * count, f"{profile}: {received}/{count}\n{logs}"
    assert os.environ.get("FASTDDS_DEFAULT_PROFILES_FILE") is None  # children only
