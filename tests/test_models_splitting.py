"""Exact split equivalence for every split of every registered model, and registry errors."""

from __future__ import annotations

import pytest
import torch

from enachi_ros.models import registry, tv_shim
from enachi_ros.models.efficientnet import build_efficientnet_lite0
from enachi_ros.models.fmnist_resnet import FmnistResNet
from enachi_ros.models.splitting import SplitModel
from enachi_ros.models.torchvision_models import build_torchvision

TORCHVISION = ("resnet18", "resnet50", "mobilenet_v3_small")


def _check_exact_splits(model: SplitModel, x: torch.Tensor) -> None:
    model.eval()
    kinds = [p.kind for p in model.splits]
    assert kinds[0] == "edge_only" and kinds[-1] == "device_only"
    assert kinds.count("intermediate") >= 4
    with torch.no_grad():
        full = model(x)
        for point in model.splits:
            feature = model.head(x, point.index)
            if point.kind == "edge_only":
                assert torch.equal(feature, x)
            elif point.kind == "intermediate":
                assert feature.ndim == 4, f"{point.name}: transmitted tensors are [N, C, H, W]"
            out = model.tail(feature, point.index)
            assert torch.allclose(out, full, rtol=0, atol=1e-6), point.name


def _reference(model: SplitModel, x: torch.Tensor) -> torch.Tensor:
    norm = model.stages[0]
    with torch.no_grad():
        return model.reference((x - norm.mean) / norm.std)


def test_every_registered_model_is_covered_here():
    # lite0_frames' splits are checked in test_models_lite0.py.
    assert set(registry.names()) == {"fmnist_resnet", "efficientnet_lite0", "lite0_frames",
                                     *TORCHVISION}


def test_fmnist_resnet_splits_exact_and_bytes_shrink_with_depth():
    torch.manual_seed(0)
    model = FmnistResNet()
    _check_exact_splits(model, torch.rand(3, 1, 28, 28))
    sizes = [torch.Size(model.feature_shape(p.index)).numel() for p in model.splits
             if p.kind == "intermediate"]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(sizes)


def test_committed_fmnist_checkpoint_loads_and_splits_exactly():
    model = registry.build_model("fmnist_resnet")
    _check_exact_splits(model, torch.rand(2, 1, 28, 28))
    assert model.channel_mean("stage2").shape == (64,)
    assert model.channel_mean("edge_only") is None


def test_efficientnet_lite0_pretrained_splits_match_original():
    model = build_efficientnet_lite0()
    x = torch.rand(1, 3, 96, 96)
    _check_exact_splits(model, x)
    assert torch.allclose(model(x), _reference(model, x), rtol=0, atol=1e-6)
    assert model.feature_shape("block3") == [40, 28, 28]  # at the default 224 x 224


@pytest.mark.parametrize("name", TORCHVISION)
def test_torchvision_splits_match_original_with_random_weights(name):
    torch.manual_seed(0)
    model = build_torchvision(name, None, random_init=True)
    x = torch.rand(1, 3, 64, 64)
    _check_exact_splits(model, x)
    assert torch.allclose(model(x), _reference(model, x), rtol=0, atol=1e-5)


def test_torchvision_needs_weights_and_checks_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="--weights"):
        registry.build_model("resnet18")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        registry.build_model("resnet18", tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    torch.save({"not": torch.zeros(1)}, bad)
    with pytest.raises(ValueError, match="not a torchvision resnet18 state_dict"):
        registry.build_model("resnet18", bad)


def test_user_weights_round_trip(tmp_path):
    torch.manual_seed(1)
    source = build_torchvision("mobilenet_v3_small", None, random_init=True)
    path = tmp_path / "w.pt"
    torch.save({"state_dict": source.reference.state_dict()}, path)
    loaded = registry.build_model("mobilenet_v3_small", path)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(loaded(x), source(x))


def test_unknown_names_are_clear_errors():
    with pytest.raises(ValueError, match="unknown model"):
        registry.get_spec("vgg")
    with pytest.raises(ValueError, match="unknown split"):
        FmnistResNet().split("nowhere")


def test_tv_shim_is_a_no_op_once_ops_exist():
    assert tv_shim.install() is False
    assert hasattr(torch.ops.torchvision, "nms")


def test_import_torchvision_works_in_a_fresh_interpreter_anywhere(tmp_path):
    """The venv's .pth hook (make setup) installs the CPU shim before the first
    ``import torchvision``, from any directory, without importing torch at start-up."""
    import subprocess
    import sys

    code = ("import sys; assert 'torch' not in sys.modules; import torchvision; "
            "print(torchvision.models.efficientnet_b0 is not None)")
    out = subprocess.run([sys.executable, "-c", code], check=False, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "True", out.stderr[-2000:]
