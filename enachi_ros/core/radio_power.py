"""What the robot's radio draws, not what it radiates (ENACHI.md section 7b).

A radio that transmits at radiated power ``p`` draws ``tx_circuit_w + p / pa_efficiency``: the
transmit chain (baseband, mixers, synthesizer) and the power amplifier, whose efficiency at the
backed-off output OFDM needs is far below one. While it waits for the edge (a STOP, the result,
the access point's trigger frames) it listens at ``listen_w``; otherwise it dozes at
``sleep_w``. Every energy the scheduler plans or a robot reports is counted *above* the doze
floor: a robot draws ``sleep_w`` (and its computer its idle power) whatever the scheduler does,
and that base is reported beside every energy figure, not hidden in it.

When the radio is awake (``listen_mode``):
- ``twt`` (default; 802.11ax Target Wake Time, trigger-enabled): awake in the slots it transmits
  in (the rest of such a slot it receives the trigger and the block ack), and in each other slot
  of its transmission window only for ``twt_wake_s`` around the trigger frame (which also
  carries a STOP); after its last transmission it dozes until its result is due and wakes for
  ``twt_wake_s`` to take it.
- ``always``: awake from the start of its window until its result arrives (a client without
  power save: the sensitivity case).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LISTEN_MODES = ("twt", "always")


def _require(ok: bool, name: str, expected: str, value: object) -> None:
    if not ok:
        raise ValueError(f"{name}: expected {expected}, got {value!r}")


@dataclass(frozen=True)
class RadioPower:
    """Power draw of the robot's radio in its states (W). Defaults: a Wi-Fi 6 client at 5 GHz
    (config/profiles/wifi6_20mhz.yaml gives the sources)."""

    tx_circuit_w: float = 0.40
    pa_efficiency: float = 0.10
    listen_w: float = 0.40
    sleep_w: float = 0.01
    listen_mode: str = "twt"
    twt_wake_s: float = 2.0e-4

    def __post_init__(self) -> None:
        for name in ("tx_circuit_w", "listen_w", "sleep_w"):
            v = getattr(self, name)
            _require(math.isfinite(v) and 0 <= v <= 100, name, "a value in [0, 100] W", v)
        _require(math.isfinite(self.pa_efficiency) and 0 < self.pa_efficiency <= 1,
                 "pa_efficiency", "in (0, 1]", self.pa_efficiency)
        _require(self.sleep_w <= min(self.listen_w, self.tx_circuit_w) or self.sleep_w == 0,
                 "sleep_w", f"<= listen_w and tx_circuit_w ({self.listen_w}, "
                 f"{self.tx_circuit_w})", self.sleep_w)
        _require(self.listen_mode in LISTEN_MODES, "listen_mode", f"one of {LISTEN_MODES}",
                 self.listen_mode)
        _require(math.isfinite(self.twt_wake_s) and 0 <= self.twt_wake_s <= 1, "twt_wake_s",
                 "in [0, 1] s", self.twt_wake_s)

    def transmit_w(self, radiated_w) -> np.ndarray:
        """Drawn while transmitting at ``radiated_w``, above the doze floor."""
        return self.tx_circuit_w + np.asarray(radiated_w, float) / self.pa_efficiency \
            - self.sleep_w

    @property
    def listen_above_sleep_w(self) -> float:
        return self.listen_w - self.sleep_w

    def awake_fraction(self, slot_s: float) -> float:
        """Fraction of a window slot without a transmission that the radio is awake."""
        if self.listen_mode == "always":
            return 1.0
        return min(1.0, self.twt_wake_s / slot_s)

    def idle_slot_w(self, slot_s: float) -> float:
        """Mean draw above the doze floor in a window slot the robot does not transmit in."""
        return self.awake_fraction(slot_s) * self.listen_above_sleep_w

    def result_wait_s(self, wait_s) -> np.ndarray:
        """Awake time spent waiting ``wait_s`` for the result after the last transmission."""
        wait = np.maximum(np.asarray(wait_s, float), 0.0)
        return wait if self.listen_mode == "always" else np.minimum(wait, self.twt_wake_s)

    def bounds_j(self, p_max_w: float, window_s: float, deadline_s: float) -> tuple[float, float]:
        """The most a task's radio can draw above the doze floor: (transmit, listen). Transmit
        at p_max for the whole window; listen for the whole deadline (the window and the wait
        for the result). What a robot's report is checked against."""
        return (float(self.transmit_w(p_max_w)) * max(window_s, 0.0),
                self.listen_above_sleep_w * max(deadline_s, 0.0))

    def slot_energy_j(self, radiated_w, used_fraction, transmitting, slot_s: float
                      ) -> tuple[np.ndarray, np.ndarray]:
        """(transmit, listen) energy of one window slot per task, above the doze floor: a
        transmitting slot draws the transmit power for its used fraction and listens for the
        rest; any other slot listens ``awake_fraction`` of it."""
        tx = np.asarray(transmitting, bool)
        used = np.where(tx, np.asarray(used_fraction, float), 0.0)
        transmit = np.where(tx, self.transmit_w(radiated_w) * used * slot_s, 0.0)
        awake = np.where(tx, 1.0 - used, self.awake_fraction(slot_s))
        return transmit, awake * self.listen_above_sleep_w * slot_s
