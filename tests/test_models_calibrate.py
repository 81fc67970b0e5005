"""Calibration pieces (thresholds, ranking) and a tiny end-to-end calibrate + verify."""

from __future__ import annotations

import numpy as np
import pytest

from enachi_ros.core.artifact import load_artifact, load_traces, save_traces
from enachi_ros.models.calibrate import run_calibrate
from enachi_ros.models.calibration_setup import CalibrateOptions
from enachi_ros.models.data import load_split
from enachi_ros.models.evaluation import IMPORTANCE_METHODS, head_features, rank_channels
from enachi_ros.models.fitting import early_stop, entropy_thresholds
from enachi_ros.models.registry import build_model
from enachi_ros.models.train import to_tensor
from enachi_ros.tools.bench.models import bench_model, format_table


def test_early_stop_and_threshold_choice():
    entropy = np.array([[1.0, 0.9, 0.1, 0.0], [1.0, 0.5, 0.4, 0.3]])
    assert early_stop(entropy, 0.2).tolist() == [2, 3]
    assert early_stop(entropy, 0.95).tolist() == [1, 1]
    correct = np.array([[False, False, True, True], [False, False, True, True]])
    th = entropy_thresholds(entropy, correct, np.array([0.0, 0.2, 0.45, 1.0]))
    assert th["accuracy"] == [1.0, 1.0, 1.0, 0.0]
    assert th["chosen"] == 0.45 and th["mean_packets"][2] == 2.0


@pytest.fixture(scope="module")
def tiny_artifact(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal")
    opts = CalibrateOptions(model="fmnist_resnet", out=out, samples=40, latency_repeats=2,
                            rank_samples=40, methods=("natural", "fisher"))
    assert run_calibrate(opts) == 0
    return out, opts


def test_tiny_calibrate_writes_a_loadable_artifact(tiny_artifact):
    out, _ = tiny_artifact
    art = load_artifact(out)
    assert art.traces is not None and art.traces.correct.shape[1] == 40
    assert {p.name for p in (out / "plots").iterdir()} == {
        "accuracy_vs_fraction.png", "importance_vs_channel_order.png",
        "mean_fill_vs_zero_fill.png"}
    for sp in art.splits:
        assert sp.head_latency_s >= 0 and sp.tail_latency_s >= 0
        if sp.kind == "intermediate":
            assert sp.head_flops > 0 and sp.tail_flops > 0
            fills = sp.raw["fill_comparison"]
            assert fills["mean"]["k"] == fills["zero"]["k"] == list(range(sp.num_packets + 1))


def test_profile_only_remeasures_latency_and_keeps_the_rest(tiny_artifact):
    out, _ = tiny_artifact
    before = load_artifact(out)
    opts = CalibrateOptions(model="fmnist_resnet", out=out, profile_only=True, latency_repeats=2)
    assert run_calibrate(opts) == 0
    after = load_artifact(out)
    assert after.profile["latency_measured"] >= before.profile["latency_measured"]
    for a, b in zip(before.splits, after.splits, strict=True):
        assert a.head_flops == b.head_flops and a.importance_order == b.importance_order


def test_verify_passes_then_fails_loudly_on_tampered_traces(tiny_artifact, capsys):
    out, _ = tiny_artifact
    check = CalibrateOptions(model="fmnist_resnet", out=out, verify=True, samples=10)
    assert run_calibrate(check) == 0
    tr = load_traces(out / "traces.npz")
    tr.pred[2] = (tr.pred[2] + 1) % 10
    save_traces(out / "traces.npz", tr)
    assert run_calibrate(check) == 1
    assert "VERIFY FAILED" in capsys.readouterr().out


def test_rank_channels_methods_are_permutations():
    model = build_model("fmnist_resnet")
    x = to_tensor(load_split("calibration").images[:40])
    y = load_split("calibration").labels[:40]
    feats = head_features(model, 3, x)
    mean = model.channel_mean(3).numpy()
    for method in IMPORTANCE_METHODS:
        order = rank_channels(method, model, 3, feats, y, channel_mean=mean)
        assert sorted(order) == list(range(128))
    with pytest.raises(ValueError, match="importance method"):
        rank_channels("random", model, 3, feats, y, channel_mean=mean)


def test_bench_models_table():
    rows = bench_model("fmnist_resnet", repeats=2)
    assert rows[0].name == "edge_only" and rows[-1].kind == "device_only"
    assert rows[0].bytes_by_bits == {8: 784, 4: 392, 2: 196}
    text = format_table("fmnist_resnet", rows)
    assert "stage2" in text and "64x7x7" in text
