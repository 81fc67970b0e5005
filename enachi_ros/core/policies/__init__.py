"""Scheduling policies behind one interface: ``policy.decide(FrameState) -> Decisions``.

The scheduler node calls ``decide`` once per frame with what it knows (channel estimates,
virtual queues, budgets, deadline, bandwidth, the split table); the simulator calls the very
same objects. Each ``Decisions`` also says how the robots run the packet level (power law,
progressive stop, importance order, whether the tail accepts partial features), so the robot's
transmitter needs nothing but its row of the decision.

Policies (ENACHI.md section 6): ``enachi`` and its ablations, each removing one mechanism
(``enachi_no_tracking``: constant power instead of reference tracking; ``enachi_no_skip``: the
tracking law transmits into undecodable slots; ``enachi_no_stop``; ``enachi_pacing``: budget
pacing instead of tracking; ``enachi_stop_aware``: the stop-aware energy plan), ``task_dpp``,
the baselines ``device_only``, ``edge_only``, ``edge_jpeg`` and ``edge_webp`` (the frame
compressed by JPEG or WebP at a quality tuned to the robot's channel, budget and deadline),
``neurosurgeon`` and ``progressive_fixed``, and the hindsight ``oracle``. ENACHI, its
ablations, task_dpp, the oracle, Neurosurgeon and the fixed split choose among the cuts of the
network; ``enachi_codec`` is ENACHI with the codec options beside the cuts.

Equal energy [ENACHI.md section 6]: every policy runs under the same long-term budget E_bar.
ENACHI, its ablations, task_dpp and the oracle plan against virtual queues of their own; each
baseline is wrapped in :class:`Budgeted`, a drift-plus-penalty gate over its own decision space
{run its plan, skip the task} with a queue of its own (a skipped task is unanswered). The raw,
unbudgeted baselines (``<name>_unbudgeted``) exist only as points on the accuracy-energy plane.
Outage skipping (no power in slots below the decoding SNR) is a switch of its own
(``Decisions.decode_skip``) that every power law honours; every policy uses it except the
``enachi_no_skip`` ablation, so no comparison is confounded by it.
"""

from __future__ import annotations

from enachi_ros.core.policies.baselines import (
    Budgeted,
    DeviceOnly,
    EdgeCodec,
    EdgeOnly,
    Neurosurgeon,
    ProgressiveFixed,
    full_transmission_latency,
)
from enachi_ros.core.policies.enachi import Enachi, TaskDpp
from enachi_ros.core.policies.interface import Decisions, FrameState, Hindsight, Policy
from enachi_ros.core.policies.oracle import Oracle

BASELINES = ("progressive_fixed", "neurosurgeon", "edge_only", "device_only")
CODEC_BASELINES = ("edge_jpeg", "edge_webp")  # need an artifact with codec options
CODEC_POLICIES = (*CODEC_BASELINES, "enachi_codec")
# The importance-order ablation (a random send order) is not among them: the calibration traces
# hold outcomes for importance-order prefixes only, so a random order could only be scored at
# the contiguous importance prefix it happened to deliver (~nothing), which measured the scoring,
# not the mechanism. What the order buys is measured by the calibration instead: accuracy over
# partial receptions under the trained order vs the importance rankings (profile.json,
# importance_comparison). ``Enachi(importance=False)`` still drives a robot's random order.
ABLATIONS = ("enachi_no_tracking", "enachi_no_skip", "enachi_no_stop", "enachi_pacing",
             "enachi_stop_aware")
UNBUDGETED = tuple(f"{b}_unbudgeted" for b in (*BASELINES, *CODEC_BASELINES))
POLICY_NAMES = ("enachi", "enachi_codec", *ABLATIONS, "task_dpp", *BASELINES, *CODEC_BASELINES,
                *UNBUDGETED, "oracle")


def make_policy(name: str, v: float = 1.0, theta: float | None = None,
                fixed_split: str | int | None = None) -> Policy:
    """Build a policy by name (``POLICY_NAMES``) with the shared knobs. A baseline's plain name
    is its budgeted form (:class:`Budgeted`); ``<baseline>_unbudgeted`` is the raw baseline."""
    raw = {
        "progressive_fixed": lambda: ProgressiveFixed(fixed_split, theta),
        "neurosurgeon": Neurosurgeon,
        "edge_only": EdgeOnly,
        "edge_jpeg": lambda: EdgeCodec(("jpeg",), "edge_jpeg"),
        "edge_webp": lambda: EdgeCodec(("webp",), "edge_webp"),
        "device_only": DeviceOnly,
    }
    table = {
        "enachi": lambda: Enachi(v, theta=theta),
        "enachi_codec": lambda: Enachi(v, theta=theta, codecs=True, name=name),
        "enachi_no_tracking": lambda: Enachi(v, inner="constant", theta=theta, name=name),
        "enachi_no_skip": lambda: Enachi(v, decode_skip=False, theta=theta, name=name),
        "enachi_no_stop": lambda: Enachi(v, early_stop=False, name=name),
        "enachi_pacing": lambda: Enachi(v, inner="pacing", theta=theta, name=name),
        "enachi_stop_aware": lambda: Enachi(v, energy_plan="stop_aware", theta=theta, name=name),
        "task_dpp": lambda: TaskDpp(v),
        "oracle": lambda: Oracle(v),
    }
    for base, build in raw.items():
        table[base] = lambda build=build: Budgeted(build(), v)
        table[f"{base}_unbudgeted"] = build
    if name not in table:
        raise ValueError(f"policy: expected one of {list(table)}, got {name!r}")
    policy = table[name]()
    if name.endswith("_unbudgeted"):
        policy.name = name
    return policy


__all__ = ["ABLATIONS", "BASELINES", "CODEC_BASELINES", "CODEC_POLICIES", "POLICY_NAMES",
           "UNBUDGETED", "Budgeted",
           "Decisions", "DeviceOnly", "EdgeCodec", "EdgeOnly", "Enachi", "FrameState", "Hindsight",
           "Neurosurgeon", "Oracle", "Policy", "ProgressiveFixed", "TaskDpp",
           "full_transmission_latency", "make_policy"]
