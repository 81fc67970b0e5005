"""Experiment configuration: pydantic models with ``extra='forbid'``.

A wrong key or an out-of-range value fails at load time with an error naming the field (e.g.
``radio.bandwidth_hz``), before any frame is simulated. Units are in the field names.
The sections map one to one onto the core's parameter dataclasses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from enachi_ros.core.params import (
    BOLTZMANN_DBM_PER_HZ,
    ChannelParams,
    DeviceParams,
    RadioParams,
)
from enachi_ros.core.policies import POLICY_NAMES
from enachi_ros.core.radio_power import RadioPower

PROFILES_DIR = Path(__file__).resolve().parents[2] / "config" / "profiles"
PROFILE_SECTIONS = ("radio", "channel", "device", "robots")
SWEEPABLE = ("deadline_s", "radio.bandwidth_hz", "robots.count", "v", "v_scale", "theta",
             "radio.tx_circuit_w", "radio.listen_mode")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RobotsConfig(_Strict):
    count: int = Field(5, ge=1, le=5000)
    distance_m: tuple[float, float] = (40.0, 150.0)  # uniform range, drawn once per robot
    distances_m: list[float] | None = None  # explicit per-robot distances (overrides the range)
    budget_j: float = Field(0.01, gt=0)  # E_bar per robot per frame

    @field_validator("distance_m")
    @classmethod
    def _range(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not 0 < v[0] <= v[1]:
            raise ValueError(f"expected 0 < low <= high, got {v}")
        return v

    @model_validator(mode="after")
    def _explicit(self) -> RobotsConfig:
        d = self.distances_m
        if d is not None and (len(d) != self.count or min(d) <= 0):
            raise ValueError(f"distances_m: expected {self.count} values > 0, got {d}")
        return self


class RadioConfig(_Strict):
    bandwidth_hz: float = Field(500e3, gt=0)
    noise_figure_db: float = Field(10.0, ge=0, le=30)
    slot_s: float = Field(1e-3, gt=0, le=0.1)
    p_max_w: float = Field(0.2, gt=0, le=10)
    # the Shannon model's decoding threshold (default 3 dB); an MCS table has its own
    decode_snr_db: float | None = Field(None, ge=-10, le=40)
    residual_loss: float = Field(0.0, ge=0, lt=1)
    feedback_s: float = Field(1e-3, ge=0)
    granularity_hz: float = Field(0.0, ge=0)  # RU / PRB width; 0: continuous shares
    rate_model: Literal["shannon", "wifi6", "nr"] = "shannon"
    mac_efficiency: float = Field(1.0, gt=0, le=1)
    spatial_streams: int = Field(1, ge=1, le=8)
    # what the radio draws (core.radio_power; defaults: a Wi-Fi 6 client)
    tx_circuit_w: float = Field(RadioPower.tx_circuit_w, ge=0, le=100)
    pa_efficiency: float = Field(RadioPower.pa_efficiency, gt=0, le=1)
    listen_w: float = Field(RadioPower.listen_w, ge=0, le=100)
    sleep_w: float = Field(RadioPower.sleep_w, ge=0, le=100)
    listen_mode: Literal["twt", "always"] = "twt"
    twt_wake_s: float = Field(RadioPower.twt_wake_s, ge=0, le=1)

    @model_validator(mode="after")
    def _threshold(self) -> RadioConfig:
        if self.rate_model != "shannon" and self.decode_snr_db is not None:
            raise ValueError(f"decode_snr_db: only the shannon rate model reads it; the "
                             f"{self.rate_model} MCS table sets the outage SNR (leave it out)")
        return self

    def power(self) -> RadioPower:
        return RadioPower(self.tx_circuit_w, self.pa_efficiency, self.listen_w, self.sleep_w,
                          self.listen_mode, self.twt_wake_s)

    def params(self) -> RadioParams:
        psd = 10 ** ((BOLTZMANN_DBM_PER_HZ + self.noise_figure_db - 30.0) / 10.0)
        try:
            decode = 3.0 if self.decode_snr_db is None else self.decode_snr_db
            return RadioParams(self.bandwidth_hz, psd, self.slot_s, self.p_max_w,
                               decode, self.residual_loss, self.feedback_s,
                               self.granularity_hz, self.rate_model, self.mac_efficiency,
                               self.spatial_streams, self.power())
        except ValueError as exc:
            raise ValueError(f"radio.{exc}") from None


class ChannelConfig(_Strict):
    model: Literal["rayleigh", "trace"] = "rayleigh"
    pl_ref_db: float = 47.7
    pl_exponent: float = Field(3.5, gt=0, le=8)
    carrier_hz: float = Field(5.8e9, gt=0)
    speed_mps: float = Field(2.0, ge=0)
    rho: float | None = Field(None, ge=0, le=1)
    trace_file: str | None = None  # SNR traces in dB (.npy/.npz/.csv) for model 'trace'
    trace_ref_power_w: float = Field(0.1, gt=0)
    trace_ref_bandwidth_hz: float = Field(100e3, gt=0)
    estimate_smoothing: float = Field(0.2, gt=0, le=1)  # EMA weight of the newest gain report

    @model_validator(mode="after")
    def _trace(self) -> ChannelConfig:
        if self.model == "trace" and not self.trace_file:
            raise ValueError("trace_file: required when model is 'trace'")
        return self

    def params(self) -> ChannelParams:
        return ChannelParams(self.pl_ref_db, self.pl_exponent, self.carrier_hz, self.speed_mps,
                             self.rho)


class DeviceConfig(_Strict):
    device_slowdown: float = Field(10.0, gt=0)
    device_active_power_w: float = Field(3.0, ge=0)
    edge_speedup: float = Field(1.0, gt=0)
    cpu_slowdown: float = Field(10.0, gt=0)  # one robot core vs one core here (codecs)
    cpu_core_power_w: float = Field(1.0, ge=0)  # one core active, above idle
    idle_power_w: float = Field(3.0, ge=0)  # the robot's base, reported beside its energy

    def params(self) -> DeviceParams:
        return DeviceParams(self.device_slowdown, self.device_active_power_w, self.edge_speedup,
                            self.cpu_slowdown, self.cpu_core_power_w, self.idle_power_w)


class SweepConfig(_Strict):
    """One parameter over several values (``radio.listen_mode``: names, the others numbers)."""

    parameter: Literal["deadline_s", "radio.bandwidth_hz", "robots.count", "v", "v_scale", "theta",
                       "radio.tx_circuit_w", "radio.listen_mode"]
    values: list[float | str] = Field(min_length=1)
    headline: float | str | None = None  # the value reported as the headline (default: first)

    @model_validator(mode="after")
    def _kinds(self) -> SweepConfig:
        text = self.parameter == "radio.listen_mode"
        bad = [v for v in self.values if isinstance(v, str) != text]
        if bad:
            raise ValueError(f"values: expected {'names' if text else 'numbers'} for "
                             f"{self.parameter}, got {bad}")
        return self


class FrontConfig(_Strict):
    """The accuracy-energy plane at each sweep value: every budgeted policy runs on the grid
    ``budgets_j`` x ``v_scales`` (ENACHI.md section 7; V from ``v_scale`` as in
    ``ExperimentConfig.v_scale``). Unbudgeted policies run once per value (they read
    neither)."""

    budgets_j: list[float] = Field(min_length=1)
    v_scales: list[float] = Field(min_length=1)

    @field_validator("budgets_j", "v_scales")
    @classmethod
    def _positive(cls, v: list[float]) -> list[float]:
        if any(not x > 0 for x in v):
            raise ValueError(f"expected values > 0, got {v}")
        return sorted(v)


class ExperimentConfig(_Strict):
    name: str = "experiment"
    description: str = ""
    seed: int = 0
    seeds: int = Field(1, ge=1, le=100)  # seeds seed, seed + 1, ...: common random numbers
    frames: int = Field(300, ge=1)
    artifact: str = "fmnist_resnet"  # a model name (committed asset), a directory, or 'synthetic'
    profiles: list[str] = Field(default_factory=list)  # presets in config/profiles, applied first
    deadline_s: float = Field(0.02, gt=0)
    frame_period_s: float | None = Field(None, gt=0)  # default: the deadline
    v: float = Field(1.0, gt=0)
    # V relative to the energy scale (overrides v): V = v_scale * N * E_bar^2. The queues are in
    # joules and the objective weighs V * mean accuracy against sum Q E, so a robot trades a
    # plan of accuracy A and energy E at the queue level Q ~ V A / (N E) = v_scale A E_bar^2 / E:
    # the same in units of E_bar at every budget and fleet size. The queues fill at the
    # overspend E - E_bar per frame, so they settle in ~ v_scale A E_bar / (E - E_bar) frames:
    # a few tens for plans well above the budget, hundreds for plans just above it.
    v_scale: float | None = Field(None, gt=0)
    theta: float | None = Field(None, ge=0, le=1)  # entropy threshold (None: calibrated)
    fixed_split: str | None = None  # progressive_fixed's split (None: best at median channel)
    policies: list[str] = Field(default_factory=lambda: list(POLICY_NAMES))
    robots: RobotsConfig = RobotsConfig()
    radio: RadioConfig = RadioConfig()
    channel: ChannelConfig = ChannelConfig()
    device: DeviceConfig = DeviceConfig()
    sweep: SweepConfig | None = None
    front: FrontConfig | None = None

    @field_validator("policies")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [p for p in v if p not in POLICY_NAMES]
        if bad or not v:
            raise ValueError(
                f"unknown policies {bad}; expected a non-empty subset of {POLICY_NAMES}"
            )
        return v

    def at(self, parameter: str | None, value: float | None) -> ExperimentConfig:
        """This config with one (possibly nested, dotted) parameter replaced."""
        if parameter is None:
            return self
        data = self.model_dump()
        head, _, tail = parameter.partition(".")
        if tail:
            data[head][tail] = int(value) if tail == "count" else value
            if tail == "count":
                data[head]["distances_m"] = None  # a swept fleet size draws its distances
        else:
            data[head] = value
        data["sweep"] = None
        return ExperimentConfig.model_validate(data)

    @property
    def effective_v(self) -> float:
        """The V the policies get: ``v``, or ``v_scale * N * E_bar^2`` when v_scale is set."""
        if self.v_scale is None:
            return self.v
        return self.v_scale * self.robots.count * self.robots.budget_j**2

    @property
    def seed_list(self) -> list[int]:
        return [self.seed + i for i in range(self.seeds)]

    def point(self, value: float | None, seed: int, budget_j: float | None = None,
              v_scale: float | None = None) -> ExperimentConfig:
        """One simulation point: the sweep value, a seed and (on a front) a budget and V."""
        cfg = self.at(self.sweep.parameter if self.sweep else None, value)
        update: dict = {"seed": seed, "seeds": 1, "sweep": None, "front": None}
        if budget_j is not None:
            update["robots"] = cfg.robots.model_copy(update={"budget_j": budget_j})
        if v_scale is not None:
            update["v_scale"] = v_scale
        return ExperimentConfig.model_validate({**cfg.model_dump(), **{
            k: (v.model_dump() if isinstance(v, BaseModel) else v) for k, v in update.items()}})

    def quick(self) -> ExperimentConfig:
        """A reduced version for tests: 2 seeds, 30 frames, the first and last sweep values,
        the smallest, middle and largest front budgets and the first V scale."""
        data = self.model_dump()
        data.update(seeds=min(self.seeds, 2), frames=min(self.frames, 30))
        if self.sweep:
            vals = self.sweep.values
            keep = sorted({vals[0], vals[-1]})
            head = self.sweep.headline if self.sweep.headline in keep else None
            data["sweep"] = {**data["sweep"], "values": keep, "headline": head}
        if self.front:
            b = self.front.budgets_j
            data["front"] = {"budgets_j": sorted({b[0], b[len(b) // 2], b[-1]}),
                             "v_scales": self.front.v_scales[:1]}
        return ExperimentConfig.model_validate(data)


def load_config(path: str | Path) -> ExperimentConfig:
    """Parse and validate a YAML experiment; ValueError naming the bad field(s)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read YAML: {exc}") from exc
    return parse_config(data, str(path))


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def with_profiles(data: dict, source: str = "config") -> dict:
    """``data`` over its ``profiles`` presets (config/profiles/<name>.yaml, in order): a preset
    fills the radio / channel / device / robots fields the config does not set itself."""
    merged: dict = {}
    for name in data.get("profiles") or []:
        path = PROFILES_DIR / f"{name}.yaml"
        if not path.is_file():
            raise ValueError(f"{source}: profiles: unknown profile {name!r}; expected one of "
                             f"{available_profiles()}")
        preset = yaml.safe_load(path.read_text()) or {}
        extra = set(preset) - set(PROFILE_SECTIONS)
        if extra:
            raise ValueError(f"{path}: sections {sorted(extra)} not allowed; expected some of "
                             f"{PROFILE_SECTIONS}")
        for section, values in preset.items():
            merged.setdefault(section, {}).update(values or {})
    out = dict(data)
    for section, values in merged.items():
        out[section] = {**values, **(data.get(section) or {})}
    return out


def parse_config(data: dict, source: str = "config") -> ExperimentConfig:
    try:
        data = with_profiles(data, source)
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ValueError(f"{source}: invalid experiment config: {problems}") from None
