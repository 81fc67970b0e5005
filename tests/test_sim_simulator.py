"""Simulator: deterministic per seed, common random numbers, outcomes read from the traces,
missed deadlines count as wrong, long runs keep energy within budget, outputs are written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sim_fixtures import synthetic_dir

from enachi_ros.cli import main
from enachi_ros.sim.config import parse_config
from enachi_ros.sim.simulator import load_inputs, run_point


def config(**kw):
    base = {"artifact": str(synthetic_dir()), "frames": 40, "deadline_s": 0.02,
            "robots": {"count": 3, "budget_j": 0.01}}
    base.update(kw)
    return parse_config(base)


def summaries(cfg, frames=None):
    splits, traces = load_inputs(cfg)
    return {k: v.summary() for k, v in run_point(cfg, splits, traces, frames).items()}


def test_deterministic_for_a_seed() -> None:
    cfg = config(policies=["enachi", "edge_only", "oracle", "enachi_no_importance"])
    a, b = summaries(cfg), summaries(cfg)
    for name in a:
        a[name].pop("decision_ms"), b[name].pop("decision_ms")
    assert a == b
    c = summaries(cfg.model_copy(update={"seed": 7}))
    assert c["enachi"]["energy_per_task_j"] != a["enachi"]["energy_per_task_j"]


def test_common_random_numbers_across_policy_sets() -> None:
    """A policy's results do not depend on which other policies run next to it."""
    alone = summaries(config(policies=["neurosurgeon"]))["neurosurgeon"]
    together = summaries(config(policies=["enachi", "neurosurgeon", "device_only"]))
    alone.pop("decision_ms"), together["neurosurgeon"].pop("decision_ms")
    assert alone == together["neurosurgeon"]


def test_device_only_reads_the_traces() -> None:
    """Device-only accuracy is exactly the traces' column 0 over the drawn samples."""
    cfg = config(policies=["device_only"], frames=30)
    splits, traces = load_inputs(cfg)
    got = run_point(cfg, splits, traces)["device_only"].summary()["accuracy"]
    rng = np.random.default_rng([cfg.seed, 3])  # the simulator's sample stream
    samples = np.array([rng.integers(0, traces.correct.shape[1], 3) for _ in range(30)])
    assert got == pytest.approx(traces.correct[splits.device_index, samples, 0].mean())


def test_missed_deadline_counts_as_wrong() -> None:
    s = summaries(config(policies=["device_only", "enachi"], deadline_s=0.005))
    assert s["device_only"]["deadline_met_rate"] == 0.0 and s["device_only"]["accuracy"] == 0.0
    assert s["enachi"]["deadline_met_rate"] == 1.0  # ENACHI picks a feasible split


@pytest.mark.parametrize("v", [0.003, 0.01, 0.03])
def test_long_run_energy_within_budget(v: float) -> None:
    """Fleet time-average energy within 5% of the budget after 600 frames; every robot within
    15% (its queue's O(V) transient is still being paid back)."""
    s = summaries(config(policies=["enachi"], v=v, frames=600))["enachi"]
    assert s["energy_vs_budget"] <= 1.05, s
    assert s["energy_vs_budget_max"] <= 1.15, s


def test_oracle_is_an_upper_bound_on_accuracy() -> None:
    s = summaries(config(policies=["enachi", "oracle"], frames=80, v=0.1))
    assert s["oracle"]["accuracy"] >= s["enachi"]["accuracy"] - 0.02


def test_simulate_cli_writes_outputs(tmp_path: Path) -> None:
    cfg = tmp_path / "exp.yaml"
    cfg.write_text(f"name: t\nartifact: {synthetic_dir()}\nrobots: {{count: 2}}\n"
                   "policies: [enachi, edge_only]\n"
                   "sweep: {parameter: deadline_s, values: [0.015, 0.03]}\n")
    rc = main(["simulate", "--config", str(cfg), "--out", str(tmp_path / "o"), "--frames", "5",
               "--workers", "1"])
    assert rc == 0
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    for key in ("accuracy", "energy_per_task_j", "deadline_met_rate", "bytes_per_task",
                "energy_vs_budget", "mean_queue", "early_stop_rate"):
        assert key in summary["policies"]["enachi"]
    assert len(summary["points"]) == 2 and summary["frames"] == 5
    assert (tmp_path / "o" / "frames.csv").read_text().count("\n") == 1 + 2 * 2 * 5
    assert (tmp_path / "o" / "sweep.png").is_file() and (tmp_path / "o" / "timeline.png").is_file()


def test_simulate_cli_reports_bad_config(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "exp.yaml"
    cfg.write_text("radio: {p_max: 1.0}\n")
    assert main(["simulate", "--config", str(cfg), "--out", str(tmp_path / "o")]) == 2
    assert "radio.p_max" in capsys.readouterr().err


def test_recorded_snr_traces_drive_the_simulation(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "snr.npz", snr_db=rng.normal(15.0, 6.0, (2, 500)))
    cfg = config(policies=["enachi", "edge_only"], frames=20,
                 channel={"model": "trace", "trace_file": str(tmp_path / "snr.npz")})
    s = summaries(cfg)
    assert 0.0 <= s["enachi"]["accuracy"] <= 1.0 and s["edge_only"]["bytes_per_task"] > 0
