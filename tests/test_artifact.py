"""The committed fmnist_resnet artifact: schema, internal consistency, no torch in core."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from enachi_ros.core.artifact import (
    SCHEMA_VERSION,
    default_artifact_dir,
    load_artifact,
    normalized_entropy,
    validate_profile,
)
from enachi_ros.core.packets import plan_packets


@pytest.fixture(scope="module")
def art():
    return load_artifact(default_artifact_dir("fmnist_resnet"))


def test_core_never_imports_torch():
    code = (
        "import importlib, pkgutil, sys, enachi_ros.core as c\n"
        "for m in pkgutil.iter_modules(c.__path__):\n"
        "    importlib.import_module('enachi_ros.core.' + m.name)\n"
        "bad = [m for m in ('torch', 'torchvision', 'rclpy') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_profile_schema_and_split_order(art):
    prof = art.profile
    assert prof["schema_version"] == SCHEMA_VERSION and art.model == "fmnist_resnet"
    assert prof["input_shape"] == [1, 28, 28] and len(prof["class_names"]) == 10
    assert prof["importance_method"] in prof["importance_comparison"]
    assert len(prof["importance_comparison"]) >= 2
    kinds = [s.kind for s in art.splits]
    assert kinds[0] == "edge_only" and kinds[-1] == "device_only"
    assert kinds.count("intermediate") >= 4
    assert prof["test_accuracy"] >= 0.92
    assert art.splits[-1].feature_shape == () and art.splits[-1].num_packets == 0


def test_deeper_intermediate_splits_send_fewer_bytes(art):
    sizes = [s.payload_bytes(8) for s in art.splits if s.kind == "intermediate"]
    assert sizes == sorted(sizes, reverse=True)
    assert art.splits[0].payload_bytes(8) == 784


def test_packets_follow_the_protocol(art):
    prof = art.profile
    for sp in art.splits[:-1]:
        c = sp.feature_shape[0]
        assert sorted(sp.importance_order) == list(range(c))
        layouts = sp.layouts()
        assert [lay.to_json() for lay in layouts] == sp.packets  # from_dict inverts to_json
        assert layouts == plan_packets(sp.feature_shape, art.bits_default, sp.importance_order,
                                       prof["max_payload_bytes"], prof["min_packets"])
        for bits in (8, 4, 2):
            per = sp.packet_bytes(bits)
            assert sum(per) == sp.payload_bytes(bits) and max(per) <= prof["max_payload_bytes"]
        assert sp.channel_mean.shape == (c,)


def test_traces_match_profile_and_test_set(art):
    tr = art.traces
    assert tr is not None
    n_splits, s, k1 = tr.correct.shape
    assert n_splits == len(art.splits) and s == 10000 and k1 == tr.num_packets.max() + 1
    assert tr.entropy.dtype == np.float16 and tr.pred.dtype == np.int16
    np.testing.assert_array_equal(tr.correct, tr.pred == tr.labels[None, :, None])
    assert np.all((tr.entropy >= 0) & (tr.entropy <= 1))
    for sp in art.splits:
        k = sp.num_packets
        assert tr.num_packets[sp.index] == k
        # columns beyond K repeat column K
        assert np.all(tr.pred[sp.index, :, k:] == tr.pred[sp.index, :, k:k + 1])
        curve = sp.accuracy_vs_fraction["accuracy_test"]
        assert np.allclose(curve, tr.correct[sp.index, :, : k + 1].mean(axis=0))
    assert tr.accuracy(len(art.splits) - 1, 0) == pytest.approx(art.profile["test_accuracy"])


def test_fits_and_thresholds_are_sane(art):
    for sp in art.splits:
        curve = sp.accuracy_vs_fraction
        assert sp.surrogate.rmse < 0.05
        assert np.allclose(sp.surrogate(np.asarray(curve["fraction"])), curve["accuracy_calib"],
                           atol=0.1)
        th = sp.entropy_thresholds
        assert th["chosen"] in th["theta"]
        i = th["theta"].index(th["chosen"])
        assert th["accuracy"][i] >= th["full_accuracy"] - th["tolerance"] - 1e-12


def test_validation_names_the_bad_field():
    prof = json.loads((default_artifact_dir("fmnist_resnet") / "profile.json").read_text())
    prof["splits"][1].pop("channel_mean")
    with pytest.raises(ValueError, match="channel_mean"):
        validate_profile(prof)
    with pytest.raises(ValueError, match="schema_version"):
        validate_profile({**prof, "schema_version": 99})


def test_normalized_entropy_bounds():
    assert normalized_entropy(np.full(10, 0.1)) == pytest.approx(1.0)
    assert normalized_entropy(np.eye(10)[0]) == pytest.approx(0.0, abs=1e-9)


def test_efficientnet_artifact_is_agreement_not_accuracy():
    art = load_artifact(default_artifact_dir("efficientnet_lite0"))
    prof = art.profile
    assert prof["accuracy_kind"] == "agreement_with_full_model"
    assert prof["test_accuracy"] is None and "agreement" in prof["data"]
    assert prof["input_shape"] == [3, 224, 224]
    assert art.splits[0].feature_shape == (3, 224, 224)
    for sp in art.splits[:-1]:
        assert max(sp.packet_bytes(8)) <= prof["max_payload_bytes"]
        assert sp.head_flops + sp.tail_flops > 0
