"""The simulator configuration equivalent to a launch configuration.

Reads what the launch file would give the nodes (parameter files + launch overrides,
through ``enachi_ros.tools.launch_eval``) and builds the ``ExperimentConfig`` of the same fleet:
same policy, deadline, frame period, bandwidth, budget, V, radio, device and channel parameters,
robot distances. The live system and the simulator can then be compared on one configuration (the
integration test does; so can a user before a field trial). The residual loss is the robots'
(their transmitters emulate the link; launch argument ``residual_loss``): the scheduler's own
value is only the prior of the delivery rate it measures, and the simulator's policies measure
theirs the same way.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from enachi_ros.core.params import BOLTZMANN_DBM_PER_HZ
from enachi_ros.sim.config import ExperimentConfig, parse_config
from enachi_ros.tools.launch_eval import NodeSpec, evaluate

# the radio and device parameters a scheduler node holds, under the simulator's names
RADIO_KEYS = ("rate_model", "mac_efficiency", "spatial_streams", "tx_circuit_w", "pa_efficiency",
              "listen_w", "sleep_w", "listen_mode", "twt_wake_s")
DEVICE_KEYS = ("device_slowdown", "device_active_power_w", "edge_speedup", "cpu_slowdown",
               "cpu_core_power_w", "idle_power_w")


def node_parameters(spec: NodeSpec) -> dict[str, Any]:
    """Parameters a node would get: files in order (``/**`` then ``/**/<name>``), then inline."""
    values: dict[str, Any] = {}
    for path in spec.parameter_files:
        sections = yaml.safe_load(Path(path).read_text()) or {}
        for key in ("/**", f"/**/{spec.name}"):
            values.update((sections.get(key) or {}).get("ros__parameters", {}))
    values.update(spec.parameters)
    return values


def experiment_from_specs(
    specs: list[NodeSpec], frames: int = 300, seed: int = 0
) -> ExperimentConfig:
    by_name: dict[str, list[dict[str, Any]]] = {}
    for spec in specs:
        by_name.setdefault(spec.name, []).append(node_parameters(spec))
    if "scheduler" not in by_name or "transmitter" not in by_name:
        raise ValueError("launch configuration: expected a scheduler and at least one transmitter")
    sched = by_name["scheduler"][0]
    distances = sorted(float(t["distance_m"]) for t in by_name["transmitter"])
    losses = {float(t.get("residual_loss", sched["residual_loss"])) for t in by_name["transmitter"]}
    if len(losses) != 1:
        raise ValueError(f"launch configuration: the simulator needs one residual_loss for every "
                         f"robot, got {sorted(losses)}")
    thermal_w_per_hz = 10 ** ((BOLTZMANN_DBM_PER_HZ - 30.0) / 10)
    noise_figure_db = 10 * math.log10(float(sched["noise_psd_w_per_hz"]) / thermal_w_per_hz)
    shannon = sched.get("rate_model", "shannon") == "shannon"
    return parse_config(
        {
            "name": "live-equivalent",
            "seed": seed,
            "frames": frames,
            "artifact": sched.get("artifact_dir") or sched["model"],
            "deadline_s": sched["deadline_s"],
            "frame_period_s": sched["frame_period_s"],
            "v": sched["v"],
            "policies": [sched["policy"]],
            "robots": {
                "count": len(distances),
                "distance_m": (distances[0], distances[-1]),
                "budget_j": sched["energy_budget_j"],
            },
            "radio": {
                "bandwidth_hz": sched["total_bandwidth_hz"],
                "noise_figure_db": round(noise_figure_db, 3),
                **{k: sched[k] for k in ("slot_s", "p_max_w", "feedback_s")},
                **({"decode_snr_db": sched["decode_snr_db"]} if shannon else {}),
                **{k: sched[k] for k in RADIO_KEYS if k in sched},
                "residual_loss": losses.pop(),
                "granularity_hz": sched.get("granularity_hz", 0.0),
            },
            "channel": {
                k: sched[k] for k in ("pl_ref_db", "pl_exponent", "carrier_hz", "speed_mps")
            },
            "device": {k: sched[k] for k in DEVICE_KEYS if k in sched},
        },
        "launch configuration",
    )


def experiment_from_launch(
    launch_file: str | Path,
    arguments: dict[str, str] | None = None,
    frames: int = 300,
    seed: int = 0,
) -> ExperimentConfig:
    return experiment_from_specs(evaluate(launch_file, arguments), frames, seed)
