"""``enachi calibrate``: measure everything the scheduler and simulator need; write an artifact.

Steps (docs/DESIGN.md "Calibration artifact"): per split, compute profile (latency, FLOPs),
feature shape and packet sizes at 8/4/2 bits; channel importance ranked on the calibration part
by several methods, compared on the calibration accuracy-vs-fraction curve, best one kept;
outcomes for k = 0..K packets on calibration (fits, thresholds) and held-out test samples
(traces, reported curves); surrogate fit and entropy thresholds on calibration only; plots.
``--verify`` recomputes a few hundred held-out samples and fails if they disagree.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from enachi_ros.core.artifact import SCHEMA_VERSION, Traces, save_profile, save_traces
from enachi_ros.core.packets import plan_packets
from enachi_ros.core.quantize import fake_quantize
from enachi_ros.core.surrogate import fit_surrogate
from enachi_ros.models.calibration_setup import (
    CalibrateOptions,
    load_data,
    with_model_defaults,
)
from enachi_ros.models.evaluation import (
    IMPORTANCE_METHODS,
    Outcomes,
    head_features,
    k_grid,
    progressive_outcomes,
    rank_channels,
)
from enachi_ros.models.fitting import entropy_thresholds
from enachi_ros.models.profiling import profile_compute, size_table
from enachi_ros.models.registry import build_model, default_asset_dir, get_spec
from enachi_ros.models.sources import EvalData
from enachi_ros.models.splitting import SplitModel, SplitPoint

LABELLED_METHODS = ("natural", "mask_drop", "fisher")
UNLABELLED_METHODS = ("natural", "mask_drop", "variance")


def machine_info(threads: int) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "torch_threads": threads, "torch": torch.__version__,
            "cpu_count": os.cpu_count()}


def k_values(options: CalibrateOptions, k_max: int, comparison: bool = False):
    """The numbers of received packets to measure: every k, or the model's k-grid."""
    if options.k_points is not None:
        return k_grid(k_max, options.k_points)
    return k_grid(k_max) if comparison else None


def channel_mean(model: SplitModel, point: SplitPoint, calib_x: torch.Tensor) -> np.ndarray | None:
    """Fill values: the model's training means where it has them, else calibration means."""
    if point.kind == "device_only":
        return None
    c = model.feature_shape(point.index)[0]
    if point.kind == "edge_only":
        mean = np.asarray(model.normalization["mean"], dtype=np.float32)
        return np.broadcast_to(mean, (c,)).copy() if mean.size in (1, c) else mean
    own = getattr(model, "channel_mean", None)
    if callable(own) and (m := own(point.index)) is not None:
        return m.numpy().astype(np.float32)
    feats = head_features(model, point.index, calib_x)
    return feats.mean(dim=(0, 2, 3)).numpy().astype(np.float32)


def _curve_score(acc: np.ndarray) -> float:
    """Mean accuracy over partial receptions k = 1..K-1 (the part ordering can change)."""
    inner = acc[1:-1] if acc.size > 2 else acc[1:]
    return float(inner.mean()) if inner.size else float(acc[-1])


def compare_methods(model: SplitModel, data: EvalData, means: dict, options: CalibrateOptions,
                    methods: tuple[str, ...]) -> tuple[str, dict, dict, dict]:
    """Rank channels by each method on calibration data; keep the method with the best curve."""
    sub = slice(0, options.rank_samples)
    compare = slice(0, options.compare_samples)
    orders: dict[str, dict[int, list[int]]] = {m: {} for m in methods}
    calib_out: dict[str, dict[int, Outcomes]] = {m: {} for m in methods}
    for point in model.splits:
        if point.kind == "device_only":
            continue
        feats = head_features(model, point.index, data.calib_x[sub])
        for method in methods:
            order = rank_channels(method, model, point.index, feats, data.calib_y[sub],
                                  channel_mean=means[point.index])
            layouts = plan_packets(list(feats.shape[1:]), options.bits_default, order,
                                   options.max_payload_bytes, options.min_packets)
            orders[method][point.index] = order
            calib_out[method][point.index] = progressive_outcomes(
                model, point.index, data.calib_x[compare], data.calib_y[compare],
                layouts=layouts, channel_mean=means[point.index], bits=options.bits_default,
                k_values=k_values(options, len(layouts), comparison=True))
    names = {p.index: p.name for p in model.splits}
    comparison = {
        m: {"score": float(np.mean([_curve_score(o.accuracy()) for o in calib_out[m].values()])),
            "curves_calib": {names[i]: _curve(o) for i, o in calib_out[m].items()}}
        for m in methods
    }
    best = max(methods, key=lambda m: comparison[m]["score"])
    return best, orders[best], calib_out[best], comparison


def _curve(out: Outcomes) -> dict[str, list[float]]:
    k_max = max(int(out.k[-1]), 1)
    return {"k": out.k.tolist(), "fraction": (out.k / k_max).tolist(),
            "accuracy": out.accuracy().tolist()}


def _traces(outcomes: list[Outcomes], data: EvalData, frame_bytes: np.ndarray) -> Traces:
    k1 = max(o.pred.shape[1] for o in outcomes)

    def stack(attr: str) -> np.ndarray:
        cols = []
        for o in outcomes:
            arr = getattr(o, attr)
            pad = np.repeat(arr[:, -1:], k1 - arr.shape[1], axis=1)
            cols.append(np.concatenate([arr, pad], axis=1))
        return np.stack(cols)

    return Traces(
        sample_index=data.test_index.astype(np.int32), labels=data.test_y.astype(np.int16),
        num_packets=np.asarray([o.pred.shape[1] - 1 for o in outcomes], dtype=np.int16),
        correct=stack("correct"), entropy=stack("entropy").astype(np.float16),
        pred=stack("pred").astype(np.int16), frame_bytes=frame_bytes.astype(np.int32),
    )


@torch.no_grad()
def accuracy_by_bits(model: SplitModel, point: SplitPoint, x: torch.Tensor, y: np.ndarray, *,
                     bits_list: tuple[int, ...], batch: int = 500) -> dict[str, float]:
    """Held-out accuracy with all packets received, per bit width (quantization cost)."""
    if point.kind == "device_only":
        return {}
    out = {}
    for bits in bits_list:
        pred = []
        for i in range(0, len(x), batch):
            f = fake_quantize(model.head(x[i:i + batch], point.index).numpy(), bits)
            pred.append(model.tail(torch.from_numpy(f), point.index).argmax(1).numpy())
        out[str(bits)] = float((np.concatenate(pred) == y).mean())
    return out


def fill_comparison(model: SplitModel, point: SplitPoint, data: EvalData, layouts: list, *,
                    mean: np.ndarray | None, options: CalibrateOptions) -> dict:
    """Calibration accuracy vs k with mean fill and with zero fill (why the edge mean-fills)."""
    if point.kind != "intermediate":
        return {}
    sub = slice(0, options.compare_samples or options.rank_samples)
    x, y = data.calib_x[sub], data.calib_y[sub]
    curves = {
        name: _curve(progressive_outcomes(model, point.index, x, y, layouts=layouts,
                                          channel_mean=fill, bits=options.bits_default,
                                          k_values=k_values(options, len(layouts), True)))
        for name, fill in (("mean", mean), ("zero", np.zeros_like(mean)))
    }
    return {"on": "calibration", **curves}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def calibrate(options: CalibrateOptions, log=print) -> tuple[dict, Traces]:
    """Run the whole calibration; returns (profile dict, test traces)."""
    unknown = set(options.methods or ()) - set(IMPORTANCE_METHODS)
    if unknown:
        raise ValueError(f"methods must be among {IMPORTANCE_METHODS}, got {sorted(unknown)}")
    options = with_model_defaults(options)
    torch.set_num_threads(options.threads)
    torch.manual_seed(0)
    spec = get_spec(options.model)
    model = build_model(options.model, options.weights)
    data = load_data(model, options)
    log(data.description)
    compute = profile_compute(model, spec.input_shape, options.latency_repeats, options.threads)
    log("measured latency and FLOPs")
    means = {p.index: channel_mean(model, p, data.calib_x) for p in model.splits}
    methods = options.methods or (
        LABELLED_METHODS if data.accuracy_kind == "accuracy" else UNLABELLED_METHODS)
    best, orders, calib_out, comparison = compare_methods(model, data, means, options, methods)
    log(f"importance methods (mean calibration accuracy over partial k): "
        f"{ {m: round(c['score'], 4) for m, c in comparison.items()} } -> {best}")
    splits, test_outcomes = [], []
    for point, comp in zip(model.splits, compute, strict=True):
        shape = comp.feature_shape
        order = orders.get(point.index, [])
        layouts = (plan_packets(shape, options.bits_default, order, options.max_payload_bytes,
                                options.min_packets) if shape else [])
        ks = None if point.kind == "device_only" else k_values(options, len(layouts))
        want = len(layouts) + 1 if ks is None else len(ks)
        previous = calib_out.get(point.index)
        if (point.kind == "device_only" or previous is None or previous.k.size != want
                or len(previous.pred) != len(data.calib_y)):
            calib_out[point.index] = progressive_outcomes(  # for fits and thresholds
                model, point.index, data.calib_x, data.calib_y, layouts=layouts,
                channel_mean=means[point.index], bits=options.bits_default, k_values=ks)
        test = progressive_outcomes(model, point.index, data.test_x, data.test_y,
                                    layouts=layouts, channel_mean=means[point.index],
                                    bits=options.bits_default, k_values=ks)
        test_outcomes.append(test.expanded())
        calib = calib_out[point.index]
        k = test.k
        fraction = k / max(len(layouts), 1) if layouts else np.ones(1)
        acc_calib, acc_test = calib.accuracy(), test.accuracy()
        fit = fit_surrogate(fraction, acc_calib)  # on the measured k only
        sur = {**fit.to_json(),
               "rmse_test": float(np.sqrt(np.mean((fit(fraction) - acc_test) ** 2)))}
        full_calib = calib.expanded()
        thresholds = entropy_thresholds(full_calib.entropy, full_calib.correct,
                                        np.asarray(options.thetas))
        fills = fill_comparison(model, point, data, layouts, mean=means[point.index],
                                options=options)
        splits.append({
            "index": point.index, "name": point.name, "kind": point.kind,
            "feature_shape": shape,
            "head_latency_s": comp.head_latency_s, "tail_latency_s": comp.tail_latency_s,
            "head_flops": comp.head_flops, "tail_flops": comp.tail_flops,
            "bits": size_table(shape, options.bits_list, order or None,
                               options.max_payload_bytes, options.min_packets),
            "packets": [lay.to_json() for lay in layouts],
            "importance_order": order,
            "channel_mean": [] if means[point.index] is None else means[point.index].tolist(),
            "accuracy_vs_fraction": {"k": k.tolist(), "fraction": fraction.tolist(),
                                     "accuracy_calib": acc_calib.tolist(),
                                     "accuracy_test": acc_test.tolist()},
            "accuracy_test_by_bits": accuracy_by_bits(
                model, point, data.test_x[:options.compare_samples],
                data.test_y[:options.compare_samples], bits_list=options.bits_list),
            "surrogate": sur,
            "entropy_thresholds": thresholds,
            "fill_comparison": fills,
        })
        log(f"split {point.index} {point.name}: K={len(layouts)}, test accuracy full "
            f"{acc_test[-1]:.4f}, surrogate rmse {sur['rmse']:.4f}, theta {thresholds['chosen']}")
    full_acc = float(test_outcomes[-1].accuracy()[0])
    frame_bytes = [np.zeros(len(data.test_y), np.int32) for _ in splits]
    if options.codecs and model.input_shape[0] == 3:
        from enachi_ros.models.codecs import codec_split

        for fmt in options.codecs:
            for quality in options.codec_qualities:
                entry, test, sizes = codec_split(model, data, options, len(splits), means[0],
                                                 fmt, quality, full_tail=compute[0])
                splits.append(entry)
                test_outcomes.append(test)
                frame_bytes.append(sizes.astype(np.int32))
                c = entry["codec"]
                log(f"{entry['name']}: {c['bytes_mean_test']:.0f} bytes per test frame on "
                    f"average (planned {c['planned_bytes']}), test accuracy "
                    f"{c['accuracy_test']:.4f}, encode {1e3 * c['encode_s']:.2f} ms")
    weights_path = (options.weights or default_asset_dir(options.model) / "checkpoint.pt")
    profile = {
        "schema_version": SCHEMA_VERSION, "model": options.model,
        "created": _now(), "latency_measured": _now(),
        "machine": machine_info(options.threads),
        "checkpoint_sha256": _sha256(weights_path) if weights_path.is_file() else None,
        "weights_source": spec.description,
        "input_shape": list(spec.input_shape), "num_classes": model.num_classes,
        "class_names": model.class_names if model.num_classes <= 100 else [],
        "normalization": model.normalization,
        "accuracy_kind": data.accuracy_kind, "data": data.description, **data.extra,
        "test_accuracy": full_acc if data.accuracy_kind == "accuracy" else None,
        "bits_default": options.bits_default, "max_payload_bytes": options.max_payload_bytes,
        "min_packets": options.min_packets,
        "importance_method": best, "importance_comparison": comparison,
        "splits": splits,
    }
    return profile, _traces(test_outcomes, data, np.stack(frame_bytes))


def reprofile(options: CalibrateOptions, folder: Path) -> None:
    """Re-measure latency and FLOPs on this machine into ``folder/profile.json`` in place.

    For moving an artifact to another machine (e.g. the robot's computer): traces, rankings and
    fits do not depend on the machine, only the compute profile does.
    """
    path = folder / "profile.json"
    profile = json.loads(path.read_text())
    if profile.get("model") != options.model:
        raise ValueError(f"{path}: model is {profile.get('model')!r}, not {options.model!r}")
    model = build_model(options.model, options.weights)
    compute = profile_compute(model, get_spec(options.model).input_shape,
                              options.latency_repeats, options.threads)
    cuts = [s for s in profile["splits"] if s["kind"] != "edge_codec"]
    for split, comp in zip(cuts, compute, strict=True):
        for key in ("head_latency_s", "tail_latency_s", "head_flops", "tail_flops"):
            split[key] = getattr(comp, key)
    codec_options = [s for s in profile["splits"] if s["kind"] == "edge_codec"]
    if codec_options:  # encode and decode on one core, on calibration frames
        from enachi_ros.models.codecs import codec_latency

        frames = load_data(model, replace(with_model_defaults(options), samples=50)).calib_x
        for split in codec_options:
            encode_s, decode_s = codec_latency(frames, split["codec"]["format"],
                                               int(split["codec"]["quality"]))
            split["head_latency_s"] = split["codec"]["encode_s"] = encode_s
            split["codec"]["decode_s"] = decode_s
            split["tail_latency_s"] = decode_s + compute[0].tail_latency_s
    profile["machine"] = machine_info(options.threads)
    profile["latency_measured"] = _now()
    save_profile(path, profile)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def run_calibrate(options: CalibrateOptions) -> int:
    """CLI entry: calibrate and write, or verify against the committed artifact."""
    if options.verify:
        from enachi_ros.models.verify import verify

        return verify(options)
    out = options.out or default_asset_dir(options.model)
    if options.profile_only:
        reprofile(options, out)
        print(f"updated latency and FLOPs in {out / 'profile.json'}")
        return 0
    out.mkdir(parents=True, exist_ok=True)
    profile, traces = calibrate(options)
    save_profile(out / "profile.json", profile)
    save_traces(out / "traces.npz", traces)
    if options.plots:
        from enachi_ros.models.plots import save_plots

        save_plots(profile, out / "plots", options)
    print(f"wrote {out / 'profile.json'} and {out / 'traces.npz'}")
    return 0
