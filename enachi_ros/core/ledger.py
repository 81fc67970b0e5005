"""The robot's task ledger: every captured frame ends in exactly one recorded outcome.

Pure Python (no ROS): the head node feeds it events (captured, edge result, energy report,
clock ticks) and publishes what it returns. A task is closed exactly once: by an edge result
(with its energy report, or after a short wait for it), by a local inference, or by a drop with
its reason when nothing arrived by the deadline plus a grace period. Late or duplicate edge
results for closed tasks are counted, never recorded twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from enachi_ros.core.outcomes import DROPPED


@dataclass
class Task:
    task_id: int
    capture_s: float
    deadline_s: float  # absolute
    ground_truth: int = -1
    received_s: float = 0.0  # when the head got the image (capture -> head latency)
    stamp_key: tuple[int, int] = (0, 0)  # capture stamp (sec, nanosec): joins the label
    frame_index: int = 0
    policy: str = ""
    split_index: int = 0
    packets_total: int = 0  # > 0: sent to the edge
    slot_s: float = 0.0  # the decision's radio slot (air time of an energy report)
    head_latency_s: float = 0.0
    compute_energy_j: float = 0.0
    result: dict[str, Any] | None = None
    result_at_s: float = 0.0
    energy: dict[str, Any] | None = None


@dataclass
class Ledger:
    grace_s: float = 0.25  # wait after the deadline for a late result / energy report
    open: dict[int, Task] = field(default_factory=dict)
    closed: set[int] = field(default_factory=set)
    late_results: int = 0
    duplicate_results: int = 0
    unknown_results: int = 0

    def capture(self, task: Task) -> None:
        if task.task_id in self.open or task.task_id in self.closed:
            raise ValueError(f"task_id: {task.task_id} was already captured")
        self.open[task.task_id] = task

    def on_result(self, task_id: int, result: dict[str, Any], now_s: float) -> None:
        task = self.open.get(task_id)
        if task is None:
            self.count_stray_result(task_id)
            return
        if task.result is not None:
            self.duplicate_results += 1
            return
        task.result, task.result_at_s = result, now_s

    def count_stray_result(self, task_id: int) -> None:
        """A result for a task that is not open: late (closed already) or unknown."""
        if task_id in self.closed:
            self.late_results += 1
        else:
            self.unknown_results += 1

    def on_energy(self, task_id: int, energy: dict[str, Any]) -> None:
        task = self.open.get(task_id)
        if task is not None and task.energy is None:
            task.energy = energy

    def close(self, task_id: int) -> Task:
        task = self.open.pop(task_id)
        self.closed.add(task_id)
        return task

    def due(self, now_s: float) -> list[tuple[Task, int, str]]:
        """Tasks that can be closed now, with their outcome kind and reason.

        An edge result closes its task once its energy report is in (or after the grace
        period); no result by deadline + grace closes it as dropped.
        """
        out = []
        for task in list(self.open.values()):
            if task.result is not None and (
                task.energy is not None or now_s > task.deadline_s + self.grace_s
            ):
                out.append(
                    (self.close(task.task_id), int(task.result["outcome"]), task.result["reason"])
                )
            elif task.result is None and now_s > task.deadline_s + self.grace_s:
                sent = int(task.energy["packets_sent"]) if task.energy else 0
                reason = (
                    f"no edge result by the deadline (+{self.grace_s:.2f} s grace); "
                    f"{sent} packets sent"
                )
                out.append((self.close(task.task_id), DROPPED, reason))
        return out
