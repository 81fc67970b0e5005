"""Split models: a network written as a sequence of stages, cut at stage boundaries.

A split point ``s`` with boundary ``b`` runs stages ``[0, b)`` on the robot (head) and ``[b, n)``
on the edge (tail). Because the cut is between stages of one ``nn.Sequential``-like list,
``tail(head(x))`` is the very same computation as ``forward(x)`` (tests check it split by split).

Split kinds follow docs/DESIGN.md: index 0 ``edge_only`` (head = identity, the input is sent),
then ``intermediate`` splits from shallow to deep, last ``device_only`` (head = full model,
nothing is sent). Every transmitted tensor is 4-D ``[N, C, H, W]`` so the packet protocol
(channels in importance order, row bands) applies uniformly; a pooled vector is ``[N, C, 1, 1]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class SplitPoint:
    """One place to cut: ``boundary`` = number of stages run by the head."""

    index: int
    name: str
    kind: str
    boundary: int


class Normalize(nn.Module):
    """Per-channel input normalization inside the model, so every split takes [0, 1] images."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(list(mean)).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(list(std)).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class Flatten(nn.Module):
    """``[N, C, 1, 1] -> [N, C]`` before a classifier (kept as a stage of its own)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(x, 1)


class SplitModel(nn.Module):
    """A classifier as a list of stages with named split points between them.

    ``cuts`` maps each intermediate split name to its boundary (number of stages in the head);
    ``edge_only`` (boundary 0) and ``device_only`` (boundary ``len(stages)``) are added.
    """

    def __init__(
        self,
        stages: Sequence[nn.Module],
        cuts: Sequence[tuple[str, int]],
        *,
        input_shape: Sequence[int],
        num_classes: int,
        class_names: Sequence[str] | None = None,
        normalization: dict[str, list[float]] | None = None,
    ) -> None:
        super().__init__()
        self.stages = nn.ModuleList(stages)
        n = len(self.stages)
        bounds = [b for _, b in cuts]
        if any(not 0 < b < n for b in bounds) or bounds != sorted(set(bounds)):
            raise ValueError(
                f"cuts must be strictly increasing boundaries in (0, {n}), got {bounds}"
            )
        points = [("edge_only", "edge_only", 0)]
        points += [(name, "intermediate", b) for name, b in cuts]
        points.append(("device_only", "device_only", n))
        self.splits: list[SplitPoint] = [
            SplitPoint(i, name, kind, b) for i, (name, kind, b) in enumerate(points)
        ]
        self.input_shape = tuple(int(v) for v in input_shape)
        self.num_classes = int(num_classes)
        self.class_names = list(class_names or [str(i) for i in range(num_classes)])
        self.normalization = normalization or {"mean": [0.0], "std": [1.0]}

    def split(self, key: int | str) -> SplitPoint:
        """Look a split up by index or name."""
        for point in self.splits:
            if key in (point.index, point.name):
                return point
        names = [p.name for p in self.splits]
        raise ValueError(f"unknown split {key!r}; valid: indices 0..{len(names) - 1} or {names}")

    def run_stages(self, x: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        for stage in self.stages[start:stop]:
            x = stage(x)
        return x

    def head(self, x: torch.Tensor, split: int | str) -> torch.Tensor:
        """Robot side: input images -> transmitted feature (logits for ``device_only``)."""
        return self.run_stages(x, 0, self.split(split).boundary)

    def tail(self, feature: torch.Tensor, split: int | str) -> torch.Tensor:
        """Edge side: feature -> logits (identity for ``device_only``)."""
        return self.run_stages(feature, self.split(split).boundary, len(self.stages))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run_stages(x, 0, len(self.stages))

    @torch.no_grad()
    def feature_shape(
        self, split: int | str, input_shape: Sequence[int] | None = None
    ) -> list[int]:
        """``[C, H, W]`` of the transmitted tensor, ``[]`` for ``device_only``."""
        point = self.split(split)
        if point.kind == "device_only":
            return []
        shape = tuple(input_shape or self.input_shape)
        was_training = self.training
        self.eval()
        out = self.head(torch.zeros((1, *shape)), point.index)
        self.train(was_training)
        return [int(v) for v in out.shape[1:]]


class OrderedChannelDropout(nn.Module):
    """Nested (importance-prefix) channel dropout with mean fill, active only in training.

    Holds one running per-channel mean buffer per cut (the fill values the edge uses). In
    training, ``apply`` keeps channels ``[0, k)`` of each sample, ``k`` uniform in ``1..C``
    for a fraction ``p`` of the samples, and fills the rest with the running mean.
    """

    def __init__(self, channels: dict[str, int], p: float = 0.5, momentum: float = 0.01) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be in [0, 1], got {p}")
        self.p, self.momentum = p, momentum
        for name, c in channels.items():
            self.register_buffer(f"mean_{name}", torch.zeros(c))

    def mean(self, name: str) -> torch.Tensor:
        return getattr(self, f"mean_{name}")

    def apply(self, name: str, feature: torch.Tensor) -> torch.Tensor:
        buf = self.mean(name)
        with torch.no_grad():
            buf.lerp_(feature.detach().mean(dim=(0, 2, 3)), self.momentum)
        n, c = feature.shape[:2]
        keep = torch.randint(1, c + 1, (n, 1), device=feature.device)
        keep[torch.rand(n, device=feature.device) >= self.p] = c
        mask = (torch.arange(c, device=feature.device)[None, :] < keep)[:, :, None, None]
        return torch.where(mask, feature, buf.view(1, c, 1, 1).to(feature.dtype))


class DropoutSplitModel(SplitModel):
    """A split model trained to be robust to partial features: ordered channel dropout with
    mean fill at its intermediate cuts (ENACHI.md section 4.6). ``channels`` gives the channel
    count of every intermediate cut; the running means are the edge's fill values."""

    def __init__(self, stages: Sequence[nn.Module], cuts: Sequence[tuple[str, int]],
                 channels: dict[str, int], *, dropout_p: float = 0.5, **kwargs) -> None:
        super().__init__(stages, cuts, **kwargs)
        if set(channels) != {name for name, _ in cuts}:
            raise ValueError(f"channels: expected one entry per cut {[n for n, _ in cuts]}, "
                             f"got {sorted(channels)}")
        self.channel_dropout = OrderedChannelDropout(channels, p=dropout_p)

    def channel_mean(self, split: int | str) -> torch.Tensor | None:
        """Per-channel fill values for a split (``None`` for edge_only/device_only)."""
        point = self.split(split)
        if point.kind != "intermediate":
            return None
        return self.channel_dropout.mean(point.name).clone()

    def forward_train(self, x: torch.Tensor, cut: str | None) -> torch.Tensor:
        """Forward pass with ordered channel dropout at the named cut (``None``: no dropout)."""
        boundary = self.split(cut).boundary if cut else -1
        for i, stage in enumerate(self.stages):
            if i == boundary:
                x = self.channel_dropout.apply(cut, x)
            x = stage(x)
        return x

    @torch.no_grad()
    def accuracy(self, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], *,
                 cut: str | None = None, keep_fraction: float = 1.0) -> float:
        """Accuracy over ``(images, labels)`` batches (eval mode). With ``cut``, only the first
        ``keep_fraction`` of its channels are kept and the rest filled with the channel means:
        what the edge does with a partial feature."""
        self.eval()
        correct = total = 0
        for x, y in batches:
            if cut is None:
                logits = self(x)
            else:
                f = self.head(x, cut)
                keep = max(1, round(keep_fraction * f.shape[1]))
                f[:, keep:] = self.channel_dropout.mean(cut).to(f.device)[keep:, None, None]
                logits = self.tail(f, cut)
            correct += int((logits.argmax(1).cpu() == y.cpu()).sum())
            total += len(y)
        return correct / total

    @torch.no_grad()
    def set_channel_means(self, batches: Iterable[torch.Tensor]) -> None:
        """Exact per-channel means of every cut's feature over the images of ``batches`` (eval
        mode): the edge's fill values, replacing the running means of training."""
        self.eval()
        cuts = [p for p in self.splits if p.kind == "intermediate"]
        sums = {p.name: torch.zeros_like(self.channel_dropout.mean(p.name)) for p in cuts}
        count = 0
        for images in batches:
            count += images.shape[0]
            x, start = images, 0
            for p in cuts:
                x = self.run_stages(x, start, p.boundary)
                start = p.boundary
                sums[p.name] += x.mean(dim=(2, 3)).sum(0)
        for name, total in sums.items():
            self.channel_dropout.mean(name).copy_(total / count)
