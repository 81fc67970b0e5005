"""Driving managed nodes from outside: what a lifecycle manager (``enachi bringup``, a test)
uses to configure, activate, deactivate and shut down the fleet's nodes.

Transitions are requested by label through each node's ``<node>/change_state`` service: an
unknown or invalid transition is then answered ``success=False`` on both Jazzy and Kilted
(requested by id, Jazzy's rclpy raises inside the node instead). Waits are bounded: a node that
died never answers, and the caller gets ``False`` for it after the timeout.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from lifecycle_msgs.srv import ChangeState, GetState

TRANSITIONS = ("configure", "activate", "deactivate", "cleanup", "shutdown")


class LifecycleClient:
    """Transition requests from ``node`` (spun by ``executor``, the caller's)."""

    def __init__(self, node: Any, executor: Any) -> None:
        self.node, self.executor = node, executor
        self._change: dict[str, Any] = {}
        self._get: dict[str, Any] = {}

    def _client(self, cache: dict[str, Any], kind: type, fqn: str, service: str) -> Any:
        if fqn not in cache:
            cache[fqn] = self.node.create_client(kind, f"{fqn}/{service}")
        return cache[fqn]

    def wait_for(self, fqns: Iterable[str], timeout_s: float) -> list[str]:
        """Wait until every node's change_state service is up; returns those that are not."""
        fqns = list(fqns)
        end = time.monotonic() + timeout_s
        missing = fqns
        while True:
            missing = [f for f in missing
                       if not self._client(self._change, ChangeState, f,
                                           "change_state").service_is_ready()]
            if not missing or time.monotonic() >= end:
                return missing
            self.executor.spin_once(timeout_sec=0.05)

    def change(self, fqns: Iterable[str], label: str, timeout_s: float) -> dict[str, bool]:
        """Request transition ``label`` of every node at once; wait (bounded) for the answers.
        Returns per node whether it succeeded (False: refused, failed, or no answer in time)."""
        if label not in TRANSITIONS:
            raise ValueError(f"label: expected one of {TRANSITIONS}, got {label!r}")
        fqns = list(fqns)
        futures = {}
        for fqn in fqns:
            client = self._client(self._change, ChangeState, fqn, "change_state")
            if client.service_is_ready():
                request = ChangeState.Request()
                request.transition.label = label
                futures[fqn] = client.call_async(request)
        end = time.monotonic() + timeout_s
        while time.monotonic() < end and not all(f.done() for f in futures.values()):
            self.executor.spin_once(timeout_sec=0.05)
        return {fqn: bool(fqn in futures and futures[fqn].done()
                          and futures[fqn].result() is not None
                          and futures[fqn].result().success) for fqn in fqns}

    def state(self, fqn: str, timeout_s: float = 2.0) -> str:
        """The node's current state label ('' when it does not answer in time)."""
        client = self._client(self._get, GetState, fqn, "get_state")
        if not client.wait_for_service(timeout_sec=timeout_s):
            return ""
        future = client.call_async(GetState.Request())
        end = time.monotonic() + timeout_s
        while time.monotonic() < end and not future.done():
            self.executor.spin_once(timeout_sec=0.05)
        result = future.result() if future.done() else None
        return result.current_state.label if result is not None else ""
