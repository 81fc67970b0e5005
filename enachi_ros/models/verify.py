"""``enachi calibrate --verify``: recompute held-out samples and compare with committed traces.

Catches a checkpoint, model code, quantization or packet-layout change that silently made the
committed artifact stale. Tiny float differences between batchings can flip a near-tie, so a
small mismatch budget is allowed; anything above it fails loudly (exit code 1).
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from enachi_ros.core.artifact import CODEC_KIND, load_artifact
from enachi_ros.core.packets import plan_packets
from enachi_ros.models.calibration_setup import CalibrateOptions, load_data, with_model_defaults
from enachi_ros.models.evaluation import progressive_outcomes
from enachi_ros.models.registry import build_model, default_asset_dir

DEFAULT_VERIFY_SAMPLES = 300
MAX_MISMATCH = 0.005  # fraction of (split, sample, k) entries allowed to differ
ENTROPY_TOL = 0.01


def verify(options: CalibrateOptions) -> int:
    """Returns 0 when the recomputed outcomes match the artifact, 1 otherwise."""
    requested = options.samples or DEFAULT_VERIFY_SAMPLES
    options = with_model_defaults(options)
    folder = options.out or default_asset_dir(options.model)
    art = load_artifact(folder)
    if art.traces is None:
        raise SystemExit(f"--verify: {folder} has no traces.npz")
    torch.set_num_threads(options.threads)
    problems: list[str] = []
    weights = options.weights or default_asset_dir(options.model) / "checkpoint.pt"
    expected_sha = art.profile.get("checkpoint_sha256")
    if expected_sha and weights.is_file():
        sha = hashlib.sha256(weights.read_bytes()).hexdigest()
        if sha != expected_sha:
            problems.append(f"checkpoint sha256 {sha[:12]} != artifact {expected_sha[:12]}")
    model = build_model(options.model, options.weights)
    tr = art.traces
    n = min(requested, len(tr.sample_index))
    rows = np.unique(np.linspace(0, len(tr.sample_index) - 1, n).round().astype(np.int64))
    data = load_data(model, options, test_index=tr.sample_index[rows])
    if not np.array_equal(data.test_y, tr.labels[rows]):
        problems.append("labels/targets differ from the committed traces")
    mismatches = total = 0
    for sp in art.splits:
        if sp.kind == CODEC_KIND:
            from enachi_ros.models.codecs import codec_outcomes

            c = sp.raw["codec"]
            out, sizes = codec_outcomes(model, data.test_x, data.test_y, c["format"],
                                        int(c["quality"]), art.profile["max_payload_bytes"])
            pred_bad = out.pred[:, 1] != tr.pred[sp.index, rows, 1]
            if tr.frame_bytes is not None and not np.array_equal(
                    sizes, tr.frame_bytes[sp.index, rows]):
                problems.append(f"split {sp.name}: encoded frame sizes differ from the traces")
            mismatches += int(pred_bad.sum())
            total += pred_bad.size
            print(f"split {sp.index} {sp.name}: {int(pred_bad.sum())} prediction mismatches of "
                  f"{pred_bad.size}")
            continue
        layouts = sp.layouts()
        if sp.feature_shape:
            planned = plan_packets(sp.feature_shape, art.bits_default, sp.importance_order,
                                   art.profile["max_payload_bytes"], art.profile["min_packets"])
            if planned != layouts:
                problems.append(f"split {sp.name}: packet layout differs from plan_packets")
        mean = sp.channel_mean if sp.kind != "device_only" else None
        measured = np.asarray(sp.accuracy_vs_fraction.get("k") or [], dtype=np.int64)
        ks = measured if 0 < measured.size < len(layouts) + 1 else None  # a k-grid artifact
        out = progressive_outcomes(model, sp.index, data.test_x, data.test_y, layouts=layouts,
                                   channel_mean=mean, bits=art.bits_default, k_values=ks)
        cols = out.k
        pred_bad = out.pred != tr.pred[sp.index][np.ix_(rows, cols)]
        ent_bad = np.abs(out.entropy
                         - tr.entropy[sp.index][np.ix_(rows, cols)].astype(np.float32))
        bad = pred_bad | (ent_bad > ENTROPY_TOL)
        mismatches += int(bad.sum())
        total += bad.size
        print(f"split {sp.index} {sp.name}: {int(pred_bad.sum())} prediction and "
              f"{int((ent_bad > ENTROPY_TOL).sum())} entropy mismatches of {bad.size}")
    rate = mismatches / max(total, 1)
    if rate > MAX_MISMATCH:
        problems.append(f"{mismatches}/{total} entries ({rate:.2%}) disagree "
                        f"(allowed {MAX_MISMATCH:.1%})")
    if problems:
        print("VERIFY FAILED for " + str(folder) + ":\n  " + "\n  ".join(problems))
        return 1
    print(f"verify OK: {len(rows)} held-out samples x {len(art.splits)} splits, "
          f"{mismatches}/{total} entries differ")
    return 0
