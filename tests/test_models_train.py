"""Data split, ordered channel dropout and a smoke training run."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import torch

from enachi_ros.models import data
from enachi_ros.models.fmnist_resnet import FmnistResNet
from enachi_ros.models.train import TrainConfig, augment, train


def test_calibration_split_is_fixed_and_disjoint_from_training():
    calib = data.load_split("calibration")
    trainset = data.load_split("train")
    assert len(calib) == data.CALIBRATION_SIZE and len(trainset) == 60000 - len(calib)
    assert not set(calib.indices) & set(trainset.indices)
    np.testing.assert_array_equal(calib.indices, data.calibration_indices())
    assert len(data.load_split("test")) == 10000


def test_bad_idx_and_split_name_are_clear(tmp_path):
    bad = tmp_path / "x.gz"
    with gzip.open(bad, "wb") as f:
        f.write(b"\x00\x00\x09\x01")
    with pytest.raises(ValueError, match="IDX"):
        data.read_idx(bad)
    with pytest.raises(ValueError, match="split name"):
        data.load_split("validation")
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        data.read_idx(tmp_path / "missing.gz")


def test_ordered_dropout_keeps_a_prefix_and_fills_the_mean():
    torch.manual_seed(0)
    drop = FmnistResNet().channel_dropout
    drop.p = 1.0
    drop.mean("stage2").fill_(0.5)
    drop.momentum = 0.0
    x = torch.rand(64, 64, 7, 7) + 2.0
    y = drop.apply("stage2", x)
    filled = (y == 0.5).all(dim=(2, 3))
    kept = filled.float().argmax(dim=1)  # first filled channel
    for i in range(64):
        k = int(kept[i]) if filled[i].any() else 64
        assert not filled[i, :k].any() and filled[i, k:].all()
        assert torch.equal(y[i, :k], x[i, :k])


def test_augment_keeps_shape_and_pixels():
    x = torch.rand(8, 1, 28, 28)
    y = augment(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.max() <= x.max() and y.min() >= 0


def test_smoke_training_writes_checkpoint_and_log(tmp_path):
    cfg = TrainConfig(epochs=1, batch_size=64, max_train_samples=256, max_eval_samples=200)
    model, result = train(cfg, tmp_path, log=lambda *a, **k: None)
    assert (tmp_path / "checkpoint.pt").is_file()
    log = json.loads((tmp_path / "train_log.json").read_text())
    assert log["config"]["epochs"] == 1 and 0.0 <= log["test_accuracy"] <= 1.0
    assert result.history[0]["epoch"] == 1
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert "channel_dropout.mean_stage1" in state
    # the means were recomputed over the training samples: ReLU features are non-negative
    assert (model.channel_mean("stage1") >= 0).all()
