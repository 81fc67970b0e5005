"""torchvision ``resnet18``, ``resnet50`` and ``mobilenet_v3_small`` with user-supplied weights.

For users who bring their own ImageNet checkpoints (``--weights PATH``, a ``state_dict``) and
photo folders (``--images DIR``): nothing is downloaded. Models are built with ``weights=None``
and split at stage boundaries (ResNet: after the stem, each layer, pooling; MobileNetV3: after
each run of feature blocks with the same output shape, the last conv and pooling).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from enachi_ros.models.splitting import Flatten, Normalize, SplitModel
from enachi_ros.models.tv_shim import import_torchvision

IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
INPUT_SHAPE = (3, 224, 224)


def load_weights(net: nn.Module, weights: Path | None, name: str) -> None:
    """Load a user ``state_dict`` (also accepts a dict holding one under 'state_dict'/'model')."""
    if weights is None:
        raise FileNotFoundError(
            f"{name} needs --weights PATH (an ImageNet state_dict for torchvision {name}); "
            "no weights are downloaded"
        )
    if not Path(weights).is_file():
        raise FileNotFoundError(f"--weights: file {weights} does not exist")
    state = torch.load(weights, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(
            f"--weights: {weights} is not a torchvision {name} state_dict: {exc}"
        ) from exc


def _resnet(net: nn.Module) -> tuple[list[nn.Module], list[tuple[str, int]]]:
    stages: list[nn.Module] = [
        Normalize(IMAGENET_MEAN, IMAGENET_STD),
        nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool),
    ]
    cuts = [("stem", 2)]
    for name in ("layer1", "layer2", "layer3", "layer4"):
        stages.append(getattr(net, name))
        cuts.append((name, len(stages)))
    stages.append(net.avgpool)
    cuts.append(("pool", len(stages)))
    stages.append(nn.Sequential(Flatten(), net.fc))
    return stages, cuts


def _mobilenet_v3(net: nn.Module) -> tuple[list[nn.Module], list[tuple[str, int]]]:
    stages: list[nn.Module] = [Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    cuts = []
    features = list(net.features)
    with torch.no_grad():
        x = torch.zeros(1, *INPUT_SHAPE)
        shapes = []
        for block in features:
            x = block.eval()(x)
            shapes.append(tuple(x.shape[1:]))
    group: list[nn.Module] = []
    for i, block in enumerate(features):
        group.append(block)
        last = i == len(features) - 1
        if last or shapes[i + 1] != shapes[i]:  # width or resolution changes after this block
            stages.append(nn.Sequential(*group))
            cuts.append((f"features{i}", len(stages)))
            group = []
    stages.append(net.avgpool)
    cuts.append(("pool", len(stages)))
    stages.append(nn.Sequential(Flatten(), net.classifier))
    return stages, cuts


_ARCH: dict[str, Callable] = {"resnet18": _resnet, "resnet50": _resnet,
                              "mobilenet_v3_small": _mobilenet_v3}


def build_torchvision(name: str, weights: Path | None, random_init: bool = False) -> SplitModel:
    """A torchvision classifier as a SplitModel; ``random_init`` skips weights (tests only)."""
    if name not in _ARCH:
        raise ValueError(f"torchvision model must be one of {sorted(_ARCH)}, got {name!r}")
    tv = import_torchvision()
    net = getattr(tv.models, name)(weights=None)
    if not random_init:
        load_weights(net, weights, name)
    net.eval()
    stages, cuts = _ARCH[name](net)
    from enachi_ros.models.efficientnet import imagenet_class_names

    model = SplitModel(stages, cuts, input_shape=INPUT_SHAPE, num_classes=1000,
                       class_names=imagenet_class_names(),
                       normalization={"mean": IMAGENET_MEAN, "std": IMAGENET_STD})
    model.__dict__["reference"] = net
    return model.eval()
