"""Bringup as the fleet's lifecycle manager: drive the transitions the launch file drives.

The launch file's lifecycle events were played by the evaluator into rounds per node
(``NodeSpec.transitions``): round 0 configures every node but the cameras, round 1 activates
them, rounds 2 and 3 configure and activate each camera once its head is active. Here every
round's requests go out at once and are awaited (bounded), round by round, so the edge and the
heads are serving before the first frame is captured. Before an activation round, bringup also
waits until its recorder has matched the capture records of the cameras about to start (their
publishers exist since configure), so it counts every frame from the first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from enachi_ros.tools.launch_eval import NodeSpec
from enachi_ros.tools.lifecycle_client import LifecycleClient

# Bounded waits (s): a configure loads and traces a model (the edge's camera model: ~10 s here,
# longer when every process configures at once on 2 cores); services appear once a process
# has imported its node (~2-5 s).
SERVICE_WAIT_S = 60.0
TRANSITION_TIMEOUT_S = {"configure": 180.0, "activate": 30.0, "deactivate": 10.0}
MATCH_WAIT_S = 10.0


def rounds(specs: list[NodeSpec]) -> list[tuple[str, list[NodeSpec]]]:
    """(label, nodes) per step, in round order; within a round, one step per label."""
    steps: dict[tuple[int, str], list[NodeSpec]] = {}
    for spec in specs:
        for round_, label in spec.transitions:
            steps.setdefault((round_, label), []).append(spec)
    return [(label, nodes) for (_, label), nodes in sorted(steps.items(), key=lambda k: k[0][0])]


def drive(specs: list[NodeSpec], manager: LifecycleClient, recorder: Any,
          alive: Callable[[], bool], note: Callable[[str], None]) -> list[str]:
    """Run every round; returns failures (empty: the fleet is up as the launch file says)."""
    managed = [s.fqn for s in specs if s.managed]
    missing = _wait_services(managed, manager, alive)
    if missing:
        return [f"no lifecycle services from {missing} within {SERVICE_WAIT_S:g} s "
                "(the process died or did not start; see its log)"]
    for label, nodes in rounds(specs):
        if label == "activate":
            _wait_capture_matched(nodes, manager, recorder)
        t0 = time.monotonic()
        result = manager.change([s.fqn for s in nodes], label,
                                TRANSITION_TIMEOUT_S.get(label, 30.0))
        failed = [fqn for fqn, ok in result.items() if not ok]
        if failed:
            return [f"{label} failed for {failed} (refused, or no answer within "
                    f"{TRANSITION_TIMEOUT_S.get(label, 30.0):g} s; see the node logs)"]
        note(f"{label}: {len(nodes)} node(s) in {time.monotonic() - t0:.1f} s")
    return []


def stop_capture(specs: list[NodeSpec], manager: LifecycleClient) -> dict[str, bool]:
    """Deactivate every camera (capture stops at once; the rest of the fleet keeps serving)."""
    cameras = [s.fqn for s in specs if s.managed and s.name == "camera"]
    return manager.change(cameras, "deactivate", TRANSITION_TIMEOUT_S["deactivate"])


def close_open_tasks(specs: list[NodeSpec], manager: LifecycleClient) -> dict[str, bool]:
    """Deactivate every head: each closes its open tasks (frames whose outcome the grace period
    did not bring) as dropped with the reason, so every captured frame has one outcome."""
    heads = [s.fqn for s in specs if s.managed and s.name == "head"]
    return manager.change(heads, "deactivate", TRANSITION_TIMEOUT_S["deactivate"])


def _wait_services(fqns: list[str], manager: LifecycleClient,
                   alive: Callable[[], bool]) -> list[str]:
    end = time.monotonic() + SERVICE_WAIT_S
    missing = fqns
    while missing and time.monotonic() < end and alive():
        missing = manager.wait_for(missing, 0.5)
    return missing


def _wait_capture_matched(nodes: list[NodeSpec], manager: LifecycleClient,
                          recorder: Any) -> None:
    robots = [s.namespace.strip("/") for s in nodes if s.name == "camera"]
    robots = [r for r in robots if r in recorder.robot_ids]
    end = time.monotonic() + MATCH_WAIT_S
    while time.monotonic() < end and any(recorder.capture_publishers(r) < 1 for r in robots):
        manager.executor.spin_once(timeout_sec=0.05)
