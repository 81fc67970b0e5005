"""The nodes' model runtime: traced tails compute what the eager model computes, at any batch
size, and checkpoints follow the calibration's k."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from enachi_ros.models.runtime import ModelRuntime


@pytest.fixture(scope="module")
def fmnist() -> ModelRuntime:
    return ModelRuntime("fmnist_resnet")


@pytest.mark.parametrize("batch", [1, 3])
def test_traced_tails_match_the_eager_model(fmnist: ModelRuntime, batch: int) -> None:
    rng = np.random.default_rng(batch)
    for split in range(fmnist.n_splits):
        if fmnist.kind(split) == "device_only":
            continue
        shape = fmnist.artifact.split(split).feature_shape
        x = rng.standard_normal((batch, *shape)).astype(np.float32)
        with torch.no_grad():
            eager = torch.softmax(fmnist.model.tail(torch.from_numpy(x), split), dim=1).numpy()
        np.testing.assert_allclose(fmnist.tail_batch(x, split), eager, atol=1e-5)


@pytest.fixture(scope="module")
def lite() -> ModelRuntime:
    return ModelRuntime("lite0_frames")


@pytest.mark.parametrize("batch", [1, 3])
def test_camera_model_tails_are_traced_once_and_match(lite: ModelRuntime, batch: int) -> None:
    """Every cut of the camera model at batch sizes other than the traced one (2): a batch
    size frozen into a trace would show here."""
    rng = np.random.default_rng(batch)
    for split in range(lite.n_splits):
        if lite.kind(split) not in ("edge_only", "intermediate"):
            continue  # the whole model on the robot, or a codec option (decoded, whole model)
        x = rng.standard_normal((batch, *lite.artifact.split(split).feature_shape))
        x = x.astype(np.float32)
        with torch.no_grad():
            eager = torch.softmax(lite.model.tail(torch.from_numpy(x), split), dim=1).numpy()
        np.testing.assert_allclose(lite.tail_batch(x, split), eager, atol=1e-5)
        assert lite.tail_module(split) is lite.tail_module(split)


def test_checkpoints_are_the_calibrated_k_and_all_packets(fmnist: ModelRuntime,
                                                           lite: ModelRuntime) -> None:
    edge = lite.artifact.split("edge_only")
    assert list(lite.checkpoints(edge.index, edge.num_packets)) == [1, 2, 3, 4, 10, 20, 30, 40,
                                                                    51, 61, 71, 81]
    # another bit width: the same fractions of its packet count
    assert list(lite.checkpoints(edge.index, 25)) == [1, 3, 6, 9, 12, 16, 19, 22, 25]
    # a codec frame is evaluated once, complete
    jpeg = lite.artifact.split("jpeg_q50")
    assert list(lite.checkpoints(jpeg.index, 7)) == [7]
    stage = fmnist.artifact.split("stage1")
    assert list(fmnist.checkpoints(stage.index, 8)) == list(range(1, 9))
