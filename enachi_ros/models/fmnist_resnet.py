"""``fmnist_resnet``: a small ResNet for Fashion-MNIST, designed to be split.

Why this shape: a stride-2 stem takes 28x28 to 14x14 early, then three residual stages halve the
resolution and double the width, so the transmitted tensor shrinks with depth
(32x14x14 -> 64x7x7 -> 128x4x4 -> pooled 128) and deeper splits cost fewer bytes. The head of
each intermediate split ends on a ReLU, so features are non-negative and quantize well.

Robustness to partial features (ENACHI section 4.6): during training, ``OrderedChannelDropout``
(``models.splitting``) picks a random intermediate split per batch and, per sample, keeps a
random prefix of channels and replaces the rest with the running per-channel mean (what the
edge fills with). Nested
dropout makes the natural channel order an importance order, so a short prefix already gives
high accuracy.
"""

from __future__ import annotations

import torch
from torch import nn

from enachi_ros.models.data import CLASS_NAMES
from enachi_ros.models.splitting import DropoutSplitModel, Flatten, Normalize

MEAN, STD = [0.2860], [0.3530]  # Fashion-MNIST training-set pixel statistics
CUTS = (("stage1", 3), ("stage2", 4), ("stage3", 5), ("pool", 6))


class BasicBlock(nn.Module):
    """Two 3x3 convs with BN and an identity (or 1x1 projection) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


def conv_bn_relu(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class FmnistResNet(DropoutSplitModel):
    """Stem (1->16 at 28x28, 16->32 stride 2) + three BasicBlock stages + pool + linear.

    The stem is narrow at full resolution because that layer dominates CPU training time.
    """

    def __init__(self, width: int = 32, dropout_p: float = 0.5) -> None:
        w = width
        stages = [
            Normalize(MEAN, STD),
            nn.Sequential(conv_bn_relu(1, w // 2, 1), conv_bn_relu(w // 2, w, 2)),
            BasicBlock(w, w),
            BasicBlock(w, 2 * w, stride=2),
            BasicBlock(2 * w, 4 * w, stride=2),
            nn.AdaptiveAvgPool2d(1),
            nn.Sequential(Flatten(), nn.Linear(4 * w, 10)),
        ]
        widths = {"stage1": w, "stage2": 2 * w, "stage3": 4 * w, "pool": 4 * w}
        super().__init__(
            stages, CUTS, widths, dropout_p=dropout_p, input_shape=(1, 28, 28), num_classes=10,
            class_names=CLASS_NAMES, normalization={"mean": MEAN, "std": STD},
        )
