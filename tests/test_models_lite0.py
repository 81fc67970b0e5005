"""lite0_frames: exact splits, robust-tail training entry point, the codec options, k-grid
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


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_codec_option_is_all_or_nothing_and_smaller_at_lower_quality(model, fmt) -> None:
    from enachi_ros.models import codecs
    from enachi_ros.models.frames import batches
    from enachi_ros.models.train_frames import to_tensor

    images, labels = next(batches("test", range(6), batch_size=6))
    x = to_tensor(images)
    decoded, sizes = codecs.round_trip(x, fmt, 95)
    _, small = codecs.round_trip(x, fmt, 10)
    assert decoded.shape == x.shape and np.all(sizes < 3 * 160 * 160)
    assert np.all(small < sizes)
    assert float((decoded - x).abs().mean()) < 0.05  # quality 95 is close to the original
    out, per_frame = codecs.codec_outcomes(model, x, labels, fmt, 95, 1024)
    k = max(len(codecs.packet_sizes(int(b), 1024)) for b in per_frame)
    assert np.array_equal(per_frame, sizes) and out.pred.shape == (6, k + 1)
    assert np.all(out.pred[:, 0] == -1) and not out.correct[:, 0].any()
    assert np.all(out.pred[:, 1:] == out.pred[:, -1:])  # the decoded frame's answer
    assert codecs.packet_sizes(2500, 1024) == [1024, 1024, 452]
    with pytest.raises(ValueError, match="do not decode"):
        codecs.decode(b"not an image")
    with pytest.raises(ValueError, match="expected shape"):
        codecs.decode(codecs.encode(images[0], fmt, 50), (80, 80, 3))


def test_k_grid_measures_the_first_packets_and_spreads_the_rest() -> None:
    from enachi_ros.models.evaluation import k_grid

    assert k_grid(81, 9).tolist() == [0, 1, 2, 3, 4, 10, 20, 30, 40, 51, 61, 71, 81]
    assert k_grid(8, 9).tolist() == list(range(9))
    assert k_grid(20, 9).tolist() == [0, 1, 2, 3, 4, 5, 8, 10, 12, 15, 18, 20]


def test_k_grid_outcomes_expand_as_a_step() -> None:
    pred = np.array([[1, 2, 3], [4, 5, 6]])
    out = Outcomes(pred, pred > 2, pred / 10.0, np.array([0, 2, 5]))
    full = out.expanded()
    assert full.k.tolist() == [0, 1, 2, 3, 4, 5]
    assert full.pred.tolist() == [[1, 1, 2, 2, 2, 3], [4, 4, 5, 5, 5, 6]]
    every_k = Outcomes(pred, pred > 2, pred / 10.0, np.arange(3))
    assert every_k.expanded() is every_k  # nothing to expand
