"""Labelled camera-size frames: deterministic, disjoint splits, labels from Fashion-MNIST."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from enachi_ros.models import frames
from enachi_ros.models.data import calibration_indices, load_split
from enachi_ros.tools.cli import main


def test_a_frame_is_a_function_of_split_and_index() -> None:
    a, b = frames.frame("test", 7), frames.frame("test", 7)
    assert np.array_equal(a.image, b.image) and a.label == b.label
    assert a.background == b.background and a.item_index == b.item_index
    c = frames.frame("test", 8)
    assert not np.array_equal(a.image, c.image)
    assert a.image.shape == (160, 160, 3) and a.image.dtype == np.uint8
    assert frames.frame("calibration", 0, size=96).image.shape == (96, 96, 3)


def test_labels_are_the_items_fashion_mnist_labels() -> None:
    test = load_split("test")
    for i in (0, 1, 2, 4999, 9999):
        f = frames.frame("test", i)
        assert f.item_index == i and f.label == int(test.labels[i])
    train = load_split("train")
    f = frames.frame("train", 123)
    assert f.label == int(train.labels[123]) and f.item_index == int(train.indices[123])


def test_splits_are_disjoint_in_items_and_in_background_photos() -> None:
    sources = {s: set(frames.background_sources(s)) for s in ("train", "calibration", "test")}
    assert not sources["train"] & sources["test"] and not sources["train"] & sources["calibration"]
    assert not sources["calibration"] & sources["test"]
    assert all(sources.values())
    calib = set(calibration_indices().tolist())
    train_items = {frames.frame("train", i).item_index for i in range(0, 30000, 997)}
    assert not train_items & calib
    assert frames.frame("calibration", 5).item_index in calib
    assert frames.SPLIT_SIZES["test"] >= 5000


def test_backgrounds_come_from_their_sources_and_load_offline() -> None:
    for split in ("train", "calibration", "test"):
        pool = frames.backgrounds(split)
        assert [name for name, _ in pool] == frames.background_sources(split)
        for _, images in pool:
            assert images and all(im.ndim == 3 and im.shape[2] == 3 for im in images)
    seen = {frames.frame("test", i).background.split("#")[0] for i in range(60)}
    assert seen <= set(frames.background_sources("test")) and len(seen) >= 4


def test_bad_requests_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="index"):
        frames.frame("test", frames.SPLIT_SIZES["test"])
    with pytest.raises(ValueError, match="split"):
        frames.frame("validation", 0)
    with pytest.raises(ValueError, match="size"):
        frames.frame("test", 0, size=8)


def test_frames_command_writes_pngs_labels_and_a_contact_sheet(tmp_path: Path) -> None:
    assert main(["frames", "--split", "calibration", "--count", "5", "--start", "10",
                 "--size", "64", "--out", str(tmp_path)]) == 0
    rows = list(csv.DictReader((tmp_path / "labels.csv").open()))
    assert [int(r["index"]) for r in rows] == [10, 11, 12, 13, 14]
    for r in rows:
        assert (tmp_path / r["file"]).is_file()
        assert int(r["label"]) == frames.frame("calibration", int(r["index"]), 64).label
    assert (tmp_path / "calibration_contact_sheet.png").is_file()
    assert main(["frames", "--split", "test", "--start", "99999", "--out", str(tmp_path)]) == 2
