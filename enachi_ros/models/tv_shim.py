"""Make ``import torchvision`` work next to CPU-only torch (docs: MODELS_AND_DATA.md).

The PyPI torchvision 0.28.0 wheel is a CUDA build; with the CPU torch build its C++ ops do not
load and ``import torchvision`` fails with "operator torchvision::nms does not exist"
(pytorch/vision#9077). Registering the ``nms``/``qnms`` schemas (with a pure-torch CPU kernel for
``nms``) before the first import is enough for classification models and transforms. Where the
real ops load, ``install()`` does nothing.
"""

from __future__ import annotations

import torch

_STATE: dict[str, torch.library.Library] = {}  # keeps the op library alive once installed


def _has_op(name: str) -> bool:
    try:
        getattr(torch.ops.torchvision, name)
    except (AttributeError, RuntimeError):
        return False
    return True


def _nms_cpu(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression; returns kept indices by decreasing score."""
    order = scores.argsort(descending=True)
    keep: list[int] = []
    area = (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)
    suppressed = torch.zeros(len(boxes), dtype=torch.bool)
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        lt = torch.maximum(boxes[i, :2], boxes[:, :2])
        rb = torch.minimum(boxes[i, 2:], boxes[:, 2:])
        inter = (rb - lt).clamp(min=0).prod(dim=1)
        iou = inter / (area[i] + area - inter).clamp(min=1e-12)
        suppressed |= iou > iou_threshold
    return torch.tensor(keep, dtype=torch.int64)


def install() -> bool:
    """Define the missing ops if needed; returns True when the shim was installed."""
    if _STATE or _has_op("nms"):
        return False
    lib = torch.library.Library("torchvision", "DEF")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.impl("nms", _nms_cpu, "CPU")
    _STATE["lib"] = lib
    return True


def import_torchvision():
    """``import torchvision`` after installing the shim if the real ops are missing."""
    install()
    import torchvision

    return torchvision


install()  # importing this module is enough (nodes do it before any model import)
