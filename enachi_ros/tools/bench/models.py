"""``enachi bench models``: per-split latency and size table of a registered model.

Latency is measured live on this machine (median of repeated batch-1 runs, see
``models.profiling``); sizes follow the packet protocol at each bit width. torchvision models
need ``--weights`` unless ``--random-init`` is given (timing and sizes do not depend on weights).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

BITS = (8, 4, 2)


@dataclass(frozen=True)
class BenchRow:
    """One split's measured compute and transmitted size."""

    index: int
    name: str
    kind: str
    feature_shape: list[int]
    head_ms: float
    tail_ms: float
    head_mflops: float
    tail_mflops: float
    packets: int
    bytes_by_bits: dict[int, int]


def bench_model(name: str, weights: Path | None = None, *, random_init: bool = False,
                repeats: int = 30, threads: int = 2, max_payload_bytes: int = 1024,
                min_packets: int = 8) -> list[BenchRow]:
    """Measure every split of a registered model; returns the table rows."""
    from enachi_ros.models.profiling import profile_compute, size_table
    from enachi_ros.models.registry import build_model, get_spec

    spec = get_spec(name)
    if random_init and spec.needs_weights:
        from enachi_ros.models.torchvision_models import build_torchvision

        model = build_torchvision(name, None, random_init=True)
    else:
        model = build_model(name, weights)
    rows = []
    for comp in profile_compute(model, spec.input_shape, repeats, threads):
        sizes = size_table(comp.feature_shape, BITS, None, max_payload_bytes, min_packets)
        rows.append(BenchRow(
            comp.index, comp.name, comp.kind, comp.feature_shape,
            comp.head_latency_s * 1e3, comp.tail_latency_s * 1e3,
            comp.head_flops / 1e6, comp.tail_flops / 1e6,
            len(sizes["8"]["packet_bytes"]),
            {b: int(sizes[str(b)]["payload_bytes"]) for b in BITS},
        ))
    return rows


def format_table(name: str, rows: list[BenchRow]) -> str:
    """Plain-text table (one line per split)."""
    head = (f"{'#':>2} {'split':<12} {'feature':<14} {'head ms':>8} {'tail ms':>8} "
            f"{'head MFLOP':>10} {'tail MFLOP':>10} {'K':>4} "
            + " ".join(f"{f'{b}-bit B':>9}" for b in BITS))
    lines = [f"model {name}", head, "-" * len(head)]
    for r in rows:
        shape = "x".join(map(str, r.feature_shape)) or "-"
        lines.append(
            f"{r.index:>2} {r.name:<12} {shape:<14} {r.head_ms:>8.3f} {r.tail_ms:>8.3f} "
            f"{r.head_mflops:>10.2f} {r.tail_mflops:>10.2f} {r.packets:>4} "
            + " ".join(f"{r.bytes_by_bits[b]:>9}" for b in BITS)
        )
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    from enachi_ros.models.registry import names

    targets = names() if args.model == "all" else [args.model]
    for name in targets:
        try:
            rows = bench_model(name, Path(args.weights) if args.weights else None,
                               random_init=args.random_init, repeats=args.repeats,
                               threads=args.threads)
        except FileNotFoundError as exc:
            if args.model != "all":
                raise SystemExit(str(exc)) from exc
            print(f"model {name}: skipped ({exc})\n")
            continue
        print(format_table(name, rows) + "\n")
    return 0


def add_bench_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``enachi bench models``."""
    p = subparsers.add_parser("models", help="per-split latency and size table of a model")
    p.add_argument("--model", default="fmnist_resnet",
                   help="registry name or 'all' (default fmnist_resnet)")
    p.add_argument("--weights", help="weights file (torchvision models)")
    p.add_argument("--random-init", action="store_true",
                   help="torchvision models without weights (latency and sizes only)")
    p.add_argument("--repeats", type=int, default=30, help="timed runs per split (median)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.set_defaults(func=_run)
