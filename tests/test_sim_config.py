"""Experiment configs: every shipped config validates; wrong keys/values name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from enachi_ros.sim.config import load_config, parse_config

EXPERIMENTS = Path(__file__).resolve().parents[1] / "config" / "experiments"


@pytest.mark.parametrize("path", sorted(EXPERIMENTS.glob("**/*.yaml")),
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_shipped_configs_validate(path: Path) -> None:
    """Every committed config parses, and every point it sweeps has valid physics (a sweep
    value that breaks a parameter once failed a reproduction after 17 minutes)."""
    from enachi_ros.sim.experiment import jobs_for

    cfg = load_config(path)
    assert cfg.sweep is not None and cfg.description.strip()
    assert jobs_for(cfg)


def test_a_sweep_value_with_bad_physics_fails_before_any_job() -> None:
    from enachi_ros.sim.experiment import jobs_for

    cfg = parse_config({"sweep": {"parameter": "radio.tx_circuit_w", "values": [0.4, 0.0]}})
    with pytest.raises(ValueError, match="sleep_w"):
        jobs_for(cfg)
    with pytest.raises(ValueError, match="values: expected names"):
        parse_config({"sweep": {"parameter": "radio.listen_mode", "values": [1.0]}})


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"radio": {"bandwith_hz": 1e5}}, "radio.bandwith_hz"),
        ({"radio": {"bandwidth_hz": -1.0}}, "radio.bandwidth_hz"),
        ({"robots": {"count": 0}}, "robots.count"),
        ({"policies": ["enachi", "magic"]}, "policies"),
        ({"sweep": {"parameter": "radio.p_max_w", "values": [0.1]}}, "sweep.parameter"),
        ({"frames": 0}, "frames"),
        ({"deadlin_s": 0.02}, "deadlin_s"),
        ({"channel": {"model": "trace"}}, "trace_file"),
        ({"robots": {"distance_m": [50.0, 10.0]}}, "robots.distance_m"),
        ({"robots": {"count": 2, "distances_m": [50.0]}}, "distances_m"),
    ],
)
def test_bad_config_names_the_field(data: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        parse_config(data)


def test_sweep_override_replaces_nested_values() -> None:
    cfg = parse_config({"sweep": {"parameter": "robots.count", "values": [1, 3]}})
    point = cfg.at("robots.count", 3.0)
    assert point.robots.count == 3 and point.sweep is None
    assert cfg.at("radio.bandwidth_hz", 2e5).radio.bandwidth_hz == 2e5


def test_unreadable_yaml_is_a_value_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("radio: [unclosed")
    with pytest.raises(ValueError, match="YAML"):
        load_config(bad)


def test_profiles_fill_what_the_config_does_not_set() -> None:
    from enachi_ros.sim.config import available_profiles

    cfg = parse_config({"profiles": ["nr5g_private", "robot_orin_nano", "edge_gpu"],
                        "radio": {"p_max_w": 0.1}})
    assert cfg.radio.p_max_w == 0.1  # the config wins over the preset
    assert cfg.radio.granularity_hz == 360e3 and cfg.radio.slot_s == 0.0005  # from the preset
    assert cfg.device.edge_speedup == 24.0 and cfg.device.device_slowdown == 0.06
    assert cfg.radio.params().granularity_hz == 360e3
    assert {"wifi6_20mhz", "nr5g_private", "robot_pi5", "robot_orin_nano",
            "edge_gpu"} <= set(available_profiles())
    with pytest.raises(ValueError, match="profiles: unknown profile 'lte'"):
        parse_config({"profiles": ["lte"]})


def test_the_committed_experiment_configs_are_found_and_parse() -> None:
    """`enachi reproduce` and `enachi bench scheduler` read them from here (a wrong path once
    made the bench fall back silently to defaults)."""
    from enachi_ros.sim.config import load_config
    from enachi_ros.tools.cli.sim import experiments_dir

    for workload in ("camera", "fmnist"):
        files = sorted((experiments_dir() / workload).glob("*.yaml"))
        assert files, workload
        for path in files:
            load_config(path)
