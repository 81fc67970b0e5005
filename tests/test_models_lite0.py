"""lite0_frames: exact splits, robust-tail training entry point, the JPEG option, k-grid
outcomes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from enachi_ros.models.evaluation import Outcomes
from enachi_ros.models.lite0_frames import CUTS, FROZEN_STAGES, Lite0Frames


@pytest.fixture(scope="module")
def model() -> Lite0Frames:
    torch.manual_seed(0)
    return Lite0Frames(pretrained=False).eval()


def test_every_cut_is_exact_and_the_features_span_1kb_to_100kb(model) -> None:
    x = torch.rand(2, 3, 160, 160)
    with torch.no_grad():
        full = model(x)
        sizes = {}
        for name in CUTS:
            f = model.head(x, name)
            sizes[name] = int(np.prod(f.shape[1:]))  # bytes at 8 bits
            assert torch.allclose(model.tail(f, name), full, atol=1e-4), name
    assert [p.name for p in model.splits] == ["edge_only", *CUTS, "device_only"]
    assert min(sizes.values()) <= 1500 and max(sizes.values()) >= 100_000, sizes
    assert full.shape == (2, 10)


def test_frozen_stages_keep_their_weights_and_statistics(model) -> None:
    m = Lite0Frames(pretrained=False)
    m.freeze_early_stages()
    m.train()
    assert all(not s.training for s in m.stages[:FROZEN_STAGES])
    assert all(s.training for s in m.stages[FROZEN_STAGES:])
    assert not any(p.requires_grad for s in m.stages[:FROZEN_STAGES] for p in s.parameters())
    assert m.channel_mean("block3").shape == (40,) and m.channel_mean("edge_only") is None


def test_training_entry_point_writes_a_checkpoint_the_registry_loads(tmp_path: Path) -> None:
    from enachi_ros.models.registry import build_model
    from enachi_ros.models.train_frames import FramesTrainConfig, train_frames

    config = FramesTrainConfig(epochs=1, batch_size=4, train_frames=8, monitor_frames=4,
                               mean_frames=4, test_frames=4)
    _, result = train_frames(config, tmp_path, log=lambda *a, **k: None)
    assert 0.0 <= result.test_accuracy <= 1.0 and len(result.history) == 1
    loaded = build_model("lite0_frames", tmp_path / "checkpoint.pt")
    assert loaded.num_classes == 10 and loaded.input_shape == (3, 160, 160)
    means = loaded.channel_mean("pool")
    assert means.shape == (1280,) and torch.isfinite(means).all() and means.abs().sum() > 0


def test_jpeg_option_is_all_or_nothing(model) -> None:
    from enachi_ros.models import jpeg
    from enachi_ros.models.frames import batches
    from enachi_ros.models.train_frames import to_tensor

    images, labels = next(batches("test", range(6), batch_size=6))
    x = to_tensor(images)
    decoded, sizes = jpeg.round_trip(x, 95)
    assert decoded.shape == x.shape and np.all(sizes < 3 * 160 * 160)
    assert float((decoded - x).abs().mean()) < 0.05  # quality 95 is close to the original
    out, _ = jpeg.jpeg_outcomes(model, x, labels, quality=95, packets=4)
    assert out.pred.shape == (6, 5) and np.all(out.pred[:, :4] == -1)
    assert not out.correct[:, :4].any() and np.all(out.entropy[:, :4] == 1.0)
    assert jpeg.packet_sizes(2500, 1024) == [1024, 1024, 452]


def test_k_grid_outcomes_expand_as_a_step() -> None:
    pred = np.array([[1, 2, 3], [4, 5, 6]])
    out = Outcomes(pred, pred > 2, pred / 10.0, np.array([0, 2, 5]))
    full = out.expanded()
    assert full.k.tolist() == [0, 1, 2, 3, 4, 5]
    assert full.pred.tolist() == [[1, 1, 2, 2, 2, 3], [4, 4, 5, 5, 5, 6]]
    every_k = Outcomes(pred, pred > 2, pred / 10.0, np.arange(3))
    assert every_k.expanded() is every_k  # nothing to expand
