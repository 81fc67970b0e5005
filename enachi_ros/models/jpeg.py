"""The JPEG option: what a practitioner sends instead of features (image_transport's
``compressed`` transport, ``jpeg_quality`` 95 by default in ROS 2's compressed_image_transport).

The robot encodes the frame as a baseline JPEG and sends it in link packets of at most
``max_payload_bytes``; the edge can only decode once every packet has arrived (all or nothing),
then runs the whole model on the decoded image. Measured here, per frame: the JPEG size, the
encode and decode times, and whether the model is right on the decoded image. The artifact
records it as an extra transmit option of kind ``edge_jpeg`` after ``device_only``, whose
planned payload is the mean size over the calibration frames (frame sizes vary; their
percentiles are recorded).
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from enachi_ros.models.evaluation import Outcomes, _entropy, eval_batch
from enachi_ros.models.splitting import SplitModel

DEFAULT_QUALITY = 95


def to_uint8_hwc(images: torch.Tensor) -> np.ndarray:
    """[N, 3, H, W] in [0, 1] -> uint8 [N, H, W, 3] (exact for frames that were uint8)."""
    return (images.permute(0, 2, 3, 1).numpy() * 255.0).round().clip(0, 255).astype(np.uint8)


def encode(image_hwc: np.ndarray, quality: int) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(image_hwc[..., ::-1]),
                           [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"JPEG encoding failed for an image of shape {image_hwc.shape}")
    return buf.tobytes()


def decode(data: bytes) -> np.ndarray:
    import cv2

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("JPEG decoding failed")
    return img[..., ::-1]


def round_trip(images: torch.Tensor, quality: int) -> tuple[torch.Tensor, np.ndarray]:
    """Decoded images (as model inputs) and the JPEG size of each, in bytes."""
    decoded, sizes = [], []
    for img in to_uint8_hwc(images):
        data = encode(img, quality)
        sizes.append(len(data))
        decoded.append(decode(data))
    x = torch.from_numpy(np.stack(decoded)).permute(0, 3, 1, 2).float().div_(255.0)
    return x, np.asarray(sizes)


@torch.no_grad()
def jpeg_outcomes(model: SplitModel, images: torch.Tensor, targets: np.ndarray, *,
                  quality: int, packets: int, batch: int | None = None
                  ) -> tuple[Outcomes, np.ndarray]:
    """Outcomes for k = 0..``packets``: nothing decodable before the last packet (prediction
    -1, wrong, entropy 1), the whole model on the decoded frame at k = ``packets``."""
    model.eval()
    n = len(images)
    pred = np.full((n, packets + 1), -1, dtype=np.int64)
    ent = np.ones((n, packets + 1), dtype=np.float32)
    sizes = []
    batch = batch or eval_batch(images)
    for i in range(0, n, batch):
        x, size = round_trip(images[i:i + batch], quality)
        logits = model(x)
        pred[i:i + batch, -1] = logits.argmax(1).numpy()
        ent[i:i + batch, -1] = _entropy(logits).numpy()
        sizes.append(size)
    correct = pred == np.asarray(targets)[:, None]
    return Outcomes(pred, correct, ent, np.arange(packets + 1)), np.concatenate(sizes)


def packet_sizes(total_bytes: int, max_payload_bytes: int) -> list[int]:
    """Link packets of at most ``max_payload_bytes`` carrying ``total_bytes``."""
    full, rest = divmod(int(total_bytes), int(max_payload_bytes))
    return [int(max_payload_bytes)] * full + ([rest] if rest else [])


def codec_latency(images: torch.Tensor, quality: int, repeats: int = 50) -> tuple[float, float]:
    """Median encode and decode time of one frame (batch 1), seconds."""
    frames = to_uint8_hwc(images[:repeats])
    enc, dec = [], []
    for img in frames:
        t0 = time.perf_counter()
        data = encode(img, quality)
        t1 = time.perf_counter()
        decode(data)
        dec.append(time.perf_counter() - t1)
        enc.append(t1 - t0)
    return statistics.median(enc), statistics.median(dec)


def jpeg_split(model: SplitModel, data, options, index: int, mean: np.ndarray, *,
               full_tail) -> tuple[dict, Outcomes]:
    """The artifact entry of the ``edge_jpeg`` option and its test outcomes, measured on the
    calibration frames (size, fits) and the held-out frames (accuracy, traces).
    ``data`` is the calibration's ``EvalData``, ``options`` its ``CalibrateOptions``,
    ``full_tail`` the edge_only split's measured compute (the whole model on the edge)."""
    from enachi_ros.core.surrogate import fit_surrogate

    q = int(options.jpeg_quality)
    _, calib_sizes = round_trip(data.calib_x, q)
    mean_bytes = round(float(calib_sizes.mean()))
    sizes = packet_sizes(mean_bytes, options.max_payload_bytes)
    calib, _ = jpeg_outcomes(model, data.calib_x, data.calib_y, quality=q, packets=len(sizes))
    test, test_sizes = jpeg_outcomes(model, data.test_x, data.test_y, quality=q,
                                     packets=len(sizes))
    encode_s, decode_s = codec_latency(data.calib_x, q)
    acc_c, acc_t = float(calib.accuracy()[-1]), float(test.accuracy()[-1])
    pct = lambda v: [float(x) for x in np.percentile(v, [5, 50, 95])]  # noqa: E731
    return {
        "index": index, "name": "edge_jpeg", "kind": "edge_jpeg",
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
        "jpeg": {"quality": q, "payload_bytes_mean": mean_bytes,
                 "raw_bytes": int(np.prod(model.input_shape)),
                 "calibration_bytes_p5_p50_p95": pct(calib_sizes),
                 "test_bytes_p5_p50_p95": pct(test_sizes),
                 "encode_s": encode_s, "decode_s": decode_s,
                 "accuracy_calib": acc_c, "accuracy_test": acc_t},
    }, test
