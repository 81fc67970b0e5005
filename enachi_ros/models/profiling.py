"""Per-split compute profile: head/tail latency (median, batch 1) and FLOPs.

Latency is measured on this machine with ``torch.set_num_threads(threads)``, after warm-up, as
the median of ``repeats`` timed runs. All heads and tails are timed round-robin (one run of each
per round), so load from other processes on a shared 2-core box hits every split alike and the
ordering between splits stays meaningful; the median resists the remaining noise.
FLOPs are counted with forward hooks on convolutions and linear layers (a multiply-add counts
as 2; normalization, activations and pooling are ignored, they are a few percent at most).
``torch.utils.flop_counter.FlopCounterMode`` gives the same figure but takes ~10 s to start.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from enachi_ros.core.packets import payload_bytes, plan_packets
from enachi_ros.models.splitting import SplitModel


@dataclass(frozen=True)
class SplitCompute:
    """Measured compute of one split."""

    index: int
    name: str
    kind: str
    feature_shape: list[int]
    head_latency_s: float
    tail_latency_s: float
    head_flops: int
    tail_flops: int


def median_latencies(
    fns: list[Callable[[], object]], repeats: int, warmup: int = 3
) -> list[float]:
    """Median wall time in seconds of each ``fn()``, timed round-robin."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    times: list[list[float]] = [[] for _ in fns]
    with torch.inference_mode():
        for _ in range(warmup):
            for fn in fns:
                fn()
        for _ in range(repeats):
            for fn, bucket in zip(fns, times, strict=True):
                start = time.perf_counter()
                fn()
                bucket.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def count_flops(fn: Callable[[], object], model: nn.Module) -> int:
    """FLOPs of conv and linear layers of ``model`` run by ``fn()``."""
    total = [0]

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if isinstance(module, nn.Conv2d):
            per_out = module.in_channels // module.groups * module.kernel_size[0] \
                * module.kernel_size[1]
            total[0] += 2 * output.numel() * per_out
        else:
            total[0] += 2 * output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.inference_mode():
            fn()
    finally:
        for h in handles:
            h.remove()
    return total[0]


def profile_compute(
    model: SplitModel, input_shape: tuple[int, ...], repeats: int = 50, threads: int = 2
) -> list[SplitCompute]:
    """Latency and FLOPs of head and tail for every split, batch 1."""
    torch.set_num_threads(threads)
    model.eval()
    x = torch.rand((1, *input_shape))
    heads, tails, shapes = [], [], []
    for point in model.splits:
        with torch.inference_mode():
            feature = model.head(x, point.index)
        shapes.append([] if point.kind == "device_only" else [int(v) for v in feature.shape[1:]])
        heads.append(None if point.kind == "edge_only" else
                     lambda p=point.index: model.head(x, p))
        tails.append(None if point.kind == "device_only" else
                     lambda p=point.index, f=feature: model.tail(f, p))
    timed = [fn for fn in heads + tails if fn is not None]
    medians = dict(zip(map(id, timed), median_latencies(timed, repeats), strict=True))

    def latency(fn) -> float:
        return 0.0 if fn is None else medians[id(fn)]

    def flops(fn) -> int:
        return 0 if fn is None else count_flops(fn, model)

    return [
        SplitCompute(index=p.index, name=p.name, kind=p.kind, feature_shape=shape,
                     head_latency_s=latency(h), tail_latency_s=latency(t),
                     head_flops=flops(h), tail_flops=flops(t))
        for p, shape, h, t in zip(model.splits, shapes, heads, tails, strict=True)
    ]


def size_table(
    shape: list[int], bits_list: tuple[int, ...], importance_order: list[int] | None,
    max_payload_bytes: int, min_packets: int,
) -> dict[str, dict]:
    """Per bit width: total payload bytes and the per-packet payload sizes."""
    if not shape:
        return {str(b): {"payload_bytes": 0, "packet_bytes": []} for b in bits_list}
    table = {}
    for bits in bits_list:
        layouts = plan_packets(shape, bits, importance_order, max_payload_bytes, min_packets)
        sizes = [payload_bytes(lay, shape, bits) for lay in layouts]
        table[str(bits)] = {"payload_bytes": int(sum(sizes)), "packet_bytes": sizes}
    return table
