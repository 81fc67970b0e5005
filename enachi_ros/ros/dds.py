"""Fast DDS profile selection (launch argument ``dds_profile``).

``dev``: single host, large shared-memory segment and socket buffers (large best-effort samples
survive). ``radio``: lossy radio links, datagrams below the MTU, asynchronous flow controller.
``system``: leave the environment as it is (use whatever the host configured).
The profiles are XML files in ``config/fastdds/``; see the comments in them for the reasons.
"""

from __future__ import annotations

from enachi_ros.paths import config_path

DDS_PROFILES: tuple[str, ...] = ("dev", "radio", "system")


def dds_profile_env(profile: str) -> dict[str, str]:
    """Environment variables that select ``profile`` for every process started with them."""
    if profile not in DDS_PROFILES:
        raise ValueError(f"dds_profile: expected one of {', '.join(DDS_PROFILES)}, got {profile!r}")
    if profile == "system":
        return {}
    env = _profile_file_env(f"{profile}.xml")
    if profile == "radio":
        # Publish mode and flow controller only apply from XML with this switch; QoS set in
        # code still win over the XML (only SYSTEM_DEFAULT policies fall back to it).
        env["RMW_FASTRTPS_USE_QOS_FROM_XML"] = "1"
    return env


def _profile_file_env(name: str) -> dict[str, str]:
    path = str(config_path("fastdds", name))
    # Fast DDS 2.x (Jazzy) reads only FASTRTPS_DEFAULT_PROFILES_FILE, 3.x (Kilted) the FASTDDS_
    # name: both, or the profile silently does not apply on one of the distros
    return {"FASTRTPS_DEFAULT_PROFILES_FILE": path, "FASTDDS_DEFAULT_PROFILES_FILE": path}


def external_camera_env(profile: str) -> dict[str, str]:
    """The environment of a camera process that subscribes to an external image topic, under
    ``dds_profile`` ``profile``: ``config/fastdds/external_camera.xml`` (its readers on UDP with
    4 MiB buffers, so a stock publisher's 512 KiB shared-memory segment cannot lose large
    best-effort frames; see the file), or nothing under ``system``. For that process only: the
    robot's other nodes keep ``profile``."""
    if profile not in DDS_PROFILES:
        raise ValueError(f"dds_profile: expected one of {', '.join(DDS_PROFILES)}, got {profile!r}")
    if profile == "system":
        return {}
    env = _profile_file_env("external_camera.xml")
    env["RMW_FASTRTPS_USE_QOS_FROM_XML"] = "0"  # the robot's radio profile sets it to 1
    return env
