"""``enachi train`` and ``enachi calibrate`` (registered by ``enachi_ros.tools.cli``).

Imports of torch and the model code happen inside the handlers so ``enachi --help`` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

TRAINABLE = ("fmnist_resnet", "lite0_frames")


def _train(args: argparse.Namespace) -> int:
    from enachi_ros.models.registry import default_asset_dir

    if args.model not in TRAINABLE:
        raise SystemExit(f"--model: expected one of {TRAINABLE}, got {args.model!r}")
    out = Path(args.out) if args.out else default_asset_dir(args.model)
    if args.model == "fmnist_resnet":
        from enachi_ros.models.train import TrainConfig, train

        train(TrainConfig(
            epochs=args.epochs or 12, seed=args.seed, threads=args.threads,
            max_train_samples=args.max_train_samples, max_eval_samples=args.max_eval_samples,
        ), out)
    else:
        from enachi_ros.models.train_frames import FramesTrainConfig, train_frames

        config = FramesTrainConfig(epochs=args.epochs or 4, seed=args.seed, threads=args.threads)
        if args.max_train_samples:
            config.train_frames = min(config.train_frames, args.max_train_samples)
            config.mean_frames = min(config.mean_frames, args.max_train_samples)
        if args.max_eval_samples:
            config.monitor_frames = min(config.monitor_frames, args.max_eval_samples)
            config.test_frames = min(config.test_frames, args.max_eval_samples)
        train_frames(config, out)
    print(f"wrote {out / 'checkpoint.pt'} and {out / 'train_log.json'}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from enachi_ros.models.calibrate import run_calibrate
    from enachi_ros.models.calibration_setup import CalibrateOptions

    options = CalibrateOptions(
        model=args.model, out=Path(args.out) if args.out else None,
        weights=Path(args.weights) if args.weights else None, verify=args.verify,
        samples=args.samples, images=Path(args.images) if args.images else None,
        threads=args.threads, latency_repeats=args.latency_repeats,
        methods=tuple(args.methods.split(",")) if args.methods else None,
        profile_only=args.profile_only,
    )
    return run_calibrate(options)


def _frames(args: argparse.Namespace) -> int:
    from enachi_ros.models.frames import write_frames

    try:
        sheet = write_frames(Path(args.out), args.split, args.count, args.size, args.start)
    except (ValueError, FileNotFoundError) as exc:
        print(f"enachi frames: {exc}")
        return 2
    print(f"wrote {args.count} frames, labels.csv and {sheet}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``train``, ``calibrate`` and ``frames``."""
    f = subparsers.add_parser(
        "frames", help="write labelled camera-size frames (Fashion-MNIST items on photos) as PNG",
        description="The labelled frames are a deterministic function of (split, index); this "
        "writes some of them with labels.csv and a contact sheet (models/frames.py says how "
        "they are made).")
    f.add_argument("--split", choices=("train", "calibration", "test"), default="test")
    f.add_argument("--count", type=int, default=64, help="frames to write (default 64)")
    f.add_argument("--start", type=int, default=0, help="first frame index (default 0)")
    f.add_argument("--size", type=int, default=160, help="frame side in pixels (default 160)")
    f.add_argument("--out", required=True, help="output folder")
    f.set_defaults(func=_frames)

    p = subparsers.add_parser("train", help="train a split model (fmnist_resnet, lite0_frames)")
    p.add_argument("--model", default="fmnist_resnet", choices=TRAINABLE,
                   help="registry name (default fmnist_resnet)")
    p.add_argument("--epochs", type=int,
                   help="training epochs (default 12 for fmnist_resnet, 4 for lite0_frames)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--out", help="output folder (default: the committed asset folder)")
    p.add_argument("--max-train-samples", type=int, help="train on the first N samples (smoke)")
    p.add_argument("--max-eval-samples", type=int, help="evaluate on the first N samples (smoke)")
    p.set_defaults(func=_train)

    c = subparsers.add_parser(
        "calibrate", help="measure latency, sizes, importance, traces, fits; write an artifact"
    )
    c.add_argument("--model", required=True, help="registry name, e.g. fmnist_resnet")
    c.add_argument("--out", help="output folder (default: the committed asset folder)")
    c.add_argument("--weights", help="weights file (state_dict) for torchvision models")
    c.add_argument("--images", help="folder of photos (ImageNet models: agreement demo)")
    c.add_argument("--verify", action="store_true",
                   help="recompute --samples test samples and compare with the committed traces")
    c.add_argument("--samples", type=int,
                   help="limit test/calibration samples (smoke runs; with --verify default 300)")
    c.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    c.add_argument("--latency-repeats", type=int, default=50,
                   help="timed runs per split for the median latency (default 50)")
    c.add_argument("--profile-only", action="store_true",
                   help="only re-measure latency and FLOPs on this machine into the existing "
                   "profile.json (e.g. on the robot); traces and fits are kept")
    c.add_argument("--methods",
                   help="comma-separated importance rankings to compare (natural, mask_drop, "
                   "fisher, variance); default: natural,mask_drop,fisher with labels, "
                   "natural,mask_drop,variance without")
    c.set_defaults(func=_calibrate)
