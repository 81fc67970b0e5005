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
    path = str(config_path("fastdds", f"{profile}.xml"))
    # Fast DDS 2.x (Jazzy) reads only FASTRTPS_DEFAULT_PROFILES_FILE, 3.x (Kilted) the FASTDDS_
    # name: both, or the profile silently does not apply on one of the distros
    env = {"FASTRTPS_DEFAULT_PROFILES_FILE": path, "FASTDDS_DEFAULT_PROFILES_FILE": path}
    if profile == "radio":
        # Publish mode and flow controller only apply from XML with this switch; QoS set in
        # code still win over the XML (only SYSTEM_DEFAULT policies fall back to it).
        env["RMW_FASTRTPS_USE_QOS_FROM_XML"] = "1"
    return env
