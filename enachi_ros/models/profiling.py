"""Per-split compute profile: head/tail latency (median, batch 1) and FLOPs.

Latency is measured on this machine with ``torch.set_num_threads(threads)``, after warm-up, as
the median of ``repeats`` timed runs (the median resists scheduler noise on a shared 2-core box).
FLOPs come from ``torch.utils.flop_counter.FlopCounterMode`` (a multiply-add counts as 2).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

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


def median_latency(fn: Callable[[], object], repeats: int, warmup: int = 3) -> float:
    """Median wall time of ``fn()`` in seconds."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    with torch.inference_mode():
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def count_flops(fn: Callable[[], object]) -> int:
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def profile_compute(
    model: SplitModel, input_shape: tuple[int, ...], repeats: int = 50, threads: int = 2
) -> list[SplitCompute]:
    """Latency and FLOPs of head and tail for every split, batch 1."""
    torch.set_num_threads(threads)
    model.eval()
    x = torch.rand((1, *input_shape))
    out = []
    for point in model.splits:
        with torch.inference_mode():
            feature = model.head(x, point.index)
        def head(p=point.index):
            return model.head(x, p)
        def tail(p=point.index, f=feature):
            return model.tail(f, p)
        trivial_head = point.kind == "edge_only"
        trivial_tail = point.kind == "device_only"
        out.append(SplitCompute(
            index=point.index, name=point.name, kind=point.kind,
            feature_shape=[] if trivial_tail else [int(v) for v in feature.shape[1:]],
            head_latency_s=0.0 if trivial_head else median_latency(head, repeats),
            tail_latency_s=0.0 if trivial_tail else median_latency(tail, repeats),
            head_flops=0 if trivial_head else count_flops(head),
            tail_flops=0 if trivial_tail else count_flops(tail),
        ))
    return out


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
