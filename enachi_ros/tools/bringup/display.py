"""What bringup shows in the terminal: a live per-robot table (rich), or plain progress lines."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from enachi_ros.tools.recording.summary import OUTCOME_KINDS, summarize


class Progress:
    """Live per-robot table (rich) while running; plain lines when not a terminal."""

    def __init__(self, robot_ids: list[str], live: bool, quiet: bool) -> None:
        from rich.console import Console

        self.robot_ids, self.quiet = robot_ids, quiet
        self.console = Console(stderr=True)
        self.live_enabled = live and self.console.is_terminal
        self._live: Any = None
        self._last = 0.0

    def __enter__(self) -> Progress:
        if self.live_enabled:
            from rich.live import Live

            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(f"[bold]bringup:[/bold] {text}", highlight=False)

    def update(self, recorder: Any, elapsed: float, force: bool = False) -> None:
        now = time.monotonic()
        period = 0.5 if self._live is not None else 5.0
        if self.quiet or (not force and now - self._last < period):
            return
        self._last = now
        summary = summarize(recorder.outcomes, recorder.captures, self.robot_ids)
        table = summary_table(summary, f"t = {elapsed:5.1f} s")
        if self._live is not None:
            self._live.update(table)
        else:
            t = summary["total"]
            self.console.print(
                f"t={elapsed:5.1f}s frames={t['frames_captured']} "
                f"outcomes={sum(t['outcomes'].values())} accuracy={fmt(t['accuracy'])}",
                highlight=False)

    def final(self, summary: dict[str, Any], out: Path) -> None:
        from rich.console import Console

        console = Console(width=max(140, shutil.get_terminal_size().columns))
        console.print(summary_table(summary, "run summary"))
        lat = summary["latency_s"]["total"]
        console.print(
            f"latency mean: total {fmt(lat['latency_total_s']['mean'], 4)} s, middleware "
            f"{fmt(lat['middleware_s']['mean'], 4)} s; outcomes/s "
            f"{fmt(summary['outcomes_per_s'], 2)}; written to {out}", highlight=False)


def fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def summary_table(summary: dict[str, Any], title: str) -> Any:
    """A rich Table: one row per robot plus the total."""
    from rich.table import Table

    table = Table(title=title)
    short = {"edge_early_stop": "early stop", "edge_deadline": "edge dl", "local_fallback":
             "local", "dropped": "dropped", "skipped": "skipped"}
    for col in ("robot", "frames", *(short[k] for k in OUTCOME_KINDS), "acc", "answered",
                "J/task", "base J", "ctrl", "dl met", "no outc", "dup"):
        table.add_column(col, justify="left" if col == "robot" else "right")
    rows = [*summary["robots"].items(), ("total", summary["total"])]
    for name, s in rows:
        table.add_row(
            name, str(s["frames_captured"]), *(str(s["outcomes"][k]) for k in OUTCOME_KINDS),
            fmt(s["accuracy"]), fmt(s["answered_rate"]), fmt(s["energy_per_task_j"], 4),
            fmt(s.get("base_per_task_j"), 3),
            "-" if s.get("controlled_share") is None else f"{100 * s['controlled_share']:.1f}%",
            fmt(s["deadline_met_rate"]),
            str(s["frames_without_outcome"]), str(s["duplicate_outcomes"]),
            style="bold" if name == "total" else None)
    return table
