"""Resource units: the granules the uplink is shared in, and the shares a robot may hold.

A share is a whole number of units (``RadioParams.granularity_hz``): an 802.11ax station holds
one resource unit of 1, 2, 4, 9, 18, 37 or 74 26-tone units (26 ... 2x996 tones), a 5G NR UE any
number of physical resource blocks. A channel with continuous shares (granularity 0) is planned
in ``CONTINUOUS_UNITS`` equal units, so one solver (a multiple-choice knapsack over units,
``core.solver``) covers every radio.
"""

from __future__ import annotations

import numpy as np

from enachi_ros.core.rates import HE_CHANNEL_UNITS, HE_RU_DATA_SUBCARRIERS

CONTINUOUS_UNITS = 48


def unit_hz(radio, total_hz: float | None = None) -> float:
    """Width of one unit (Hz)."""
    if radio.granularity_hz > 0:
        return float(radio.granularity_hz)
    return float(total_hz if total_hz is not None else radio.bandwidth_hz) / CONTINUOUS_UNITS


def total_units(radio, total_hz: float | None = None) -> int:
    """Units in a channel of ``total_hz`` (default the radio's bandwidth): the standard count
    for 802.11ax channel widths (37 in 80 MHz), else as many whole units as fit."""
    w = float(total_hz if total_hz is not None else radio.bandwidth_hz)
    if radio.rate_model == "wifi6" and w in HE_CHANNEL_UNITS:
        return HE_CHANNEL_UNITS[w]
    return int(np.floor(w / unit_hz(radio, w) + 1e-9))


EVERY_COUNT_UP_TO = 16  # above this many units, shares are planned on a ladder of ~25% steps


def allowed_units(radio, total_hz: float | None = None) -> np.ndarray:
    """The unit counts one robot's plan may hold: the RU sizes that fit the channel (802.11ax,
    where a station holds one RU), or every count up to ``EVERY_COUNT_UP_TO`` and then a ladder
    of ~25% steps to the whole channel (NR PRBs, continuous shares: a finer step changes a
    plan's rate by less than its SNR grid does)."""
    u = total_units(radio, total_hz)
    if radio.rate_model == "wifi6":
        return np.array([s for s in sorted(HE_RU_DATA_SUBCARRIERS) if s <= u], dtype=int)
    counts = list(range(1, min(u, EVERY_COUNT_UP_TO) + 1))
    while counts and counts[-1] < u:
        counts.append(min(u, int(np.ceil(counts[-1] * 1.25))))
    return np.array(counts, dtype=int)


def quantize_shares(bandwidth_hz, radio, total_hz: float) -> np.ndarray:
    """Round shares to units a robot may hold without exceeding the channel's units: every
    share is rounded down to the largest allowed count in it, then the units left over go, in
    order of the largest remainders, to shares that asked for more (never beyond the asked
    share rounded up). With continuous shares (granularity 0) they are returned unchanged."""
    w = np.asarray(bandwidth_hz, dtype=float)
    if radio.granularity_hz <= 0:
        return w
    g = float(radio.granularity_hz)
    sizes = allowed_units(radio, total_hz)
    if sizes.size == 0:
        return np.zeros_like(w)
    exact = np.where(w > 0, w / g, 0.0)
    idx = np.searchsorted(sizes, np.floor(exact + 1e-9), side="right") - 1
    units = np.where(idx >= 0, sizes[np.maximum(idx, 0)], 0).astype(float)
    spare = total_units(radio, total_hz) - units.sum()
    if spare < 0:  # more asked than the channel holds: keep the largest shares that fit
        for i in np.argsort(units, kind="stable"):
            if spare >= 0:
                break
            spare += units[i]
            units[i] = 0.0
    remainder = np.where(w > 0, exact - units, -1.0)
    for i in np.argsort(-remainder, kind="stable"):
        if remainder[i] <= 1e-9 or spare <= 0:
            continue
        bigger = sizes[sizes > units[i]]
        if bigger.size and bigger[0] - units[i] <= spare and bigger[0] <= np.ceil(exact[i] - 1e-9):
            spare -= bigger[0] - units[i]
            units[i] = bigger[0]
    return units * g
