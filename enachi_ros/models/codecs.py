"""Codec options: what a practitioner sends instead of features, tuned.

A robot can encode the frame with an image codec (JPEG or WebP, both in OpenCV; image_transport's
``compressed`` transport sends JPEG at ``jpeg_quality`` 95 by default) at a quality it picks, and
send the bytes in link packets of at most ``max_payload_bytes``; the edge can only decode once
every packet of that frame has arrived (all or nothing), then runs the whole model on the
decoded image. Each (format, quality) is one option of the artifact, of kind ``edge_codec``,
after ``device_only``: measured here per frame, on the calibration and the held-out test frames,
are the encoded size, whether the model is right on the decoded image and its entropy; per
option the median encode and decode time of one frame on one core (both codecs are
single-threaded in OpenCV's encoders). Every frame costs its own size in the simulator
(``traces.frame_bytes``); a plan must carry the calibration frames' 95th percentile, so that
most frames fit what it planned (``codec.planned_bytes``).
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from enachi_ros.models.evaluation import Outcomes, _entropy, eval_batch
from enachi_ros.models.splitting import SplitModel

FORMATS = ("jpeg", "webp")
QUALITIES = (10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
PLANNED_PERCENTILE = 95  # the size a plan must carry: this percentile of the calibration frames
_EXT = {"jpeg": ".jpg", "webp": ".webp"}


def option_name(fmt: str, quality: int) -> str:
    """The artifact name of a codec option, e.g. ``jpeg_q50``."""
    return f"{fmt}_q{int(quality)}"


def _check(fmt: str, quality: int) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"codec format: expected one of {FORMATS}, got {fmt!r}")
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"codec quality: expected 1..100, got {quality}")


def to_uint8_hwc(images: torch.Tensor) -> np.ndarray:
    """[N, 3, H, W] in [0, 1] -> uint8 [N, H, W, 3] (exact for frames that were uint8)."""
    return (images.permute(0, 2, 3, 1).numpy() * 255.0).round().clip(0, 255).astype(np.uint8)


def encode(image_hwc: np.ndarray, fmt: str, quality: int) -> bytes:
    """An RGB uint8 image [H, W, 3] as ``fmt`` bytes at ``quality`` (1-100)."""
    import cv2

    _check(fmt, quality)
    flag = cv2.IMWRITE_JPEG_QUALITY if fmt == "jpeg" else cv2.IMWRITE_WEBP_QUALITY
    ok, buf = cv2.imencode(_EXT[fmt], np.ascontiguousarray(image_hwc[..., ::-1]),
                           [flag, int(quality)])
    if not ok:
        raise ValueError(f"{fmt} encoding failed for an image of shape {image_hwc.shape}")
    return buf.tobytes()


def decode(data: bytes, shape_hwc: tuple[int, int, int] | None = None) -> np.ndarray:
    """Encoded bytes (either format: OpenCV reads the signature) -> RGB uint8 [H, W, 3];
    ValueError for bytes that are no image, or an image of another shape than ``shape_hwc``."""
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"codec bytes: expected a JPEG or WebP image, got {len(data)} bytes "
                         "that do not decode")
    if shape_hwc is not None and img.shape != tuple(shape_hwc):
        raise ValueError(f"codec image: expected shape {tuple(shape_hwc)}, got {img.shape}")
    return img[..., ::-1]


def round_trip(images: torch.Tensor, fmt: str, quality: int) -> tuple[torch.Tensor, np.ndarray]:
    """Decoded images (as model inputs) and the encoded size of each, in bytes."""
    decoded, sizes = [], []
    for img in to_uint8_hwc(images):
        data = encode(img, fmt, quality)
        sizes.append(len(data))
        decoded.append(decode(data))
    x = torch.from_numpy(np.stack(decoded)).permute(0, 3, 1, 2).float().div_(255.0)
    return x, np.asarray(sizes)


def packet_sizes(total_bytes: int, max_payload_bytes: int) -> list[int]:
    """Link packets of at most ``max_payload_bytes`` carrying ``total_bytes``."""
    full, rest = divmod(int(total_bytes), int(max_payload_bytes))
    return [int(max_payload_bytes)] * full + ([rest] if rest else [])


@torch.no_grad()
def codec_outcomes(model: SplitModel, images: torch.Tensor, targets: np.ndarray, fmt: str,
                   quality: int, max_payload_bytes: int, batch: int | None = None
                   ) -> tuple[Outcomes, np.ndarray]:
    """Per frame: the whole model on the decoded image, and the encoded size (bytes).

    As outcomes over k = 0..K received packets, K the most packets any of these frames takes:
    nothing decodable at k = 0 (prediction -1, wrong, entropy 1), the decoded frame's outcome at
    every k >= 1. Whether a frame's own packets all arrived is the scoring rule's business (a
    full transmission is answered only then), so the column read is never short of them."""
    model.eval()
    n = len(images)
    pred = np.full(n, -1, dtype=np.int64)
    ent = np.ones(n, dtype=np.float32)
    sizes = []
    batch = batch or eval_batch(images)
    for i in range(0, n, batch):
        x, size = round_trip(images[i:i + batch], fmt, quality)
        logits = model(x)
        pred[i:i + batch] = logits.argmax(1).numpy()
        ent[i:i + batch] = _entropy(logits).numpy()
        sizes.append(size)
    sizes = np.concatenate(sizes)
    k_max = max(len(packet_sizes(int(sizes.max()), max_payload_bytes)), 1)
    cols = k_max + 1
    pred_k = np.repeat(pred[:, None], cols, axis=1)
    pred_k[:, 0] = -1
    ent_k = np.repeat(ent[:, None], cols, axis=1)
    ent_k[:, 0] = 1.0
    correct = pred_k == np.asarray(targets)[:, None]
    return Outcomes(pred_k, correct, ent_k, np.arange(cols)), sizes


def codec_latency(images: torch.Tensor, fmt: str, quality: int,
                  repeats: int = 50) -> tuple[float, float]:
    """Median encode and decode time of one frame (batch 1, one thread), seconds."""
    import cv2

    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        frames = to_uint8_hwc(images[:repeats])
        enc, dec = [], []
        for img in frames:
            t0 = time.perf_counter()
            data = encode(img, fmt, quality)
            t1 = time.perf_counter()
            decode(data)
            dec.append(time.perf_counter() - t1)
            enc.append(t1 - t0)
    finally:
        cv2.setNumThreads(threads)
    return statistics.median(enc), statistics.median(dec)


def codec_split(model: SplitModel, data, options, index: int, mean: np.ndarray, fmt: str,
                quality: int, *, full_tail) -> tuple[dict, Outcomes, np.ndarray]:
    """The artifact entry of one codec option, its test outcomes and the test frames' sizes.

    Measured on the calibration frames: the sizes (the planned size is their
    ``PLANNED_PERCENTILE``th percentile) and the accuracy a plan may use; on the held-out
    frames: the outcomes and sizes the simulator replays. ``data`` is the calibration's
    ``EvalData``, ``options`` its ``CalibrateOptions``, ``full_tail`` the edge_only split's
    measured compute (the whole model on the edge)."""
    from enachi_ros.core.surrogate import fit_surrogate

    payload = int(options.max_payload_bytes)
    calib, calib_sizes = codec_outcomes(model, data.calib_x, data.calib_y, fmt, quality, payload)
    test, test_sizes = codec_outcomes(model, data.test_x, data.test_y, fmt, quality, payload)
    planned = int(np.ceil(np.percentile(calib_sizes, PLANNED_PERCENTILE)))
    sizes = packet_sizes(planned, payload)
    encode_s, decode_s = codec_latency(data.calib_x, fmt, quality)
    acc_c, acc_t = float(calib.accuracy()[-1]), float(test.accuracy()[-1])
    pct = lambda v: [float(x) for x in np.percentile(v, [5, 50, 95])]  # noqa: E731
    entry = {
        "index": index, "name": option_name(fmt, quality), "kind": "edge_codec",
        "feature_shape": list(model.input_shape),
        "head_latency_s": encode_s, "tail_latency_s": decode_s + full_tail.tail_latency_s,
        "head_flops": 0, "tail_flops": full_tail.tail_flops,
        "bits": {str(b): {"payload_bytes": int(sum(sizes)), "packet_bytes": sizes}
                 for b in options.bits_list},
        "packets": [], "importance_order": [], "channel_mean": mean.tolist(),
        "accuracy_vs_fraction": {"k": [0, len(sizes)], "fraction": [0.0, 1.0],
                                 "accuracy_calib": [0.0, acc_c], "accuracy_test": [0.0, acc_t]},
        "accuracy_test_by_bits": {},
        "surrogate": fit_surrogate(np.array([0.0, 1.0]), np.array([0.0, acc_c])).to_json(),
        "entropy_thresholds": {"theta": [], "accuracy": [], "mean_packets": [], "chosen": 0.0},
        "fill_comparison": {},
        "codec": {"format": fmt, "quality": int(quality), "planned_bytes": planned,
                  "planned_percentile": PLANNED_PERCENTILE,
                  "bytes_mean_calib": float(calib_sizes.mean()),
                  "bytes_mean_test": float(test_sizes.mean()),
                  "bytes_max_test": int(test_sizes.max()),
                  "raw_bytes": int(np.prod(model.input_shape)),
                  "calibration_bytes_p5_p50_p95": pct(calib_sizes),
                  "test_bytes_p5_p50_p95": pct(test_sizes),
                  "encode_s": encode_s, "decode_s": decode_s, "threads": 1,
                  "accuracy_calib": acc_c, "accuracy_test": acc_t},
    }
    return entry, test, test_sizes
