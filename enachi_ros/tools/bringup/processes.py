"""Starting, watching, fault-injecting and stopping the node processes of a bringup.

Children run in their own sessions (process groups), so stopping one ends everything it started
and nothing is orphaned: SIGINT, then SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from enachi_ros.tools.bringup.errors import BringupError
from enachi_ros.tools.bringup.plan import Group

# stop(): seconds to wait after SIGINT, SIGTERM, SIGKILL. A node exits on SIGINT in well under a
# second when idle, but 9 interpreters tearing down DDS at once on a busy 2-core machine take
# longer; ros2 launch waits 5 s before SIGTERM (sigterm_timeout), we allow more.
STOP_TIMEOUTS_S = (15.0, 5.0, 2.0)


@dataclass
class Proc:
    group: Group
    popen: subprocess.Popen
    log: Path
    failed_at: float | None = None
    stop_signal: str = ""  # the last signal stop() sent ("" if it had exited before)
    exit_s: float | None = None  # seconds from the first stop signal to its exit

    def usage(self) -> dict[str, float]:
        """Peak RSS (MiB) and CPU seconds so far, from /proc (empty if gone)."""
        try:
            status = Path(f"/proc/{self.popen.pid}/status").read_text()
            stat = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return {}
        hwm = next((int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmHWM")), 0)
        ticks = os.sysconf("SC_CLK_TCK")
        return {"peak_rss_mib": hwm / 1024, "cpu_s": (int(stat[11]) + int(stat[12])) / ticks}


def start(groups: list[Group], log_dir: Path) -> list[Proc]:
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = []
    for g in groups:
        log = log_dir / f"{g.name}.log"
        with log.open("wb") as handle:
            popen = subprocess.Popen(g.command, env=g.environment, stdout=handle,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(Proc(g, popen, log))
    return procs


def stop(procs: list[Proc], timeouts: tuple[float, float, float] = STOP_TIMEOUTS_S) -> None:
    """SIGINT, then SIGTERM, then SIGKILL to each process group, waiting between steps.

    Before escalating past SIGINT, stragglers get SIGUSR1: the nodes register faulthandler on it
    (``spin.py``), so their log shows every thread's Python stack at the moment they hung.
    Each Proc records how long it took to exit (``exit_s``) and which signal ended it.
    """
    began = time.monotonic()
    for sig, timeout in zip((signal.SIGINT, signal.SIGTERM, signal.SIGKILL), timeouts,
                            strict=True):
        alive = [p for p in procs if p.popen.poll() is None]
        if not alive:
            break
        if sig != signal.SIGINT:
            for p in alive:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.popen.pid, signal.SIGUSR1)
            time.sleep(0.2)  # let faulthandler write before the processes are ended
        for p in alive:
            p.stop_signal = sig.name
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.popen.pid, sig)
        end = time.monotonic() + timeout
        while time.monotonic() < end and any(p.popen.poll() is None for p in alive):
            for p in alive:
                if p.exit_s is None and p.popen.poll() is not None:
                    p.exit_s = time.monotonic() - began
            time.sleep(0.05)
    for p in procs:  # reap the process-group leaders' stragglers too
        if p.exit_s is None and p.popen.poll() is not None and p.stop_signal:
            p.exit_s = time.monotonic() - began
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.popen.pid, signal.SIGKILL)


def log_tail(path: Path, lines: int = 8) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def parse_kills(items: list[str], group_names: list[str]) -> list[tuple[str, float]]:
    """``GROUP@SECONDS`` items -> sorted (group, seconds); unknown groups are refused."""
    kills = []
    for item in items:
        name, sep, at = item.partition("@")
        try:
            seconds = float(at)
        except ValueError:
            seconds = -1.0
        if not sep or seconds < 0:
            raise BringupError(f"--kill: expected GROUP@SECONDS, got {item!r}")
        if name not in group_names:
            raise BringupError(f"--kill: no process group {name!r}; groups: {group_names}")
        kills.append((name, seconds))
    return sorted(kills, key=lambda k: k[1])


def inject(kills: list[tuple[str, float]], procs: list[Proc], elapsed: float,
            progress: Any) -> list[tuple[str, float]]:
    """Kill the groups whose time has come; an injected death is not a failure."""
    while kills and kills[0][1] <= elapsed:
        name, _ = kills.pop(0)
        for p in procs:
            if p.group.name == name and p.popen.poll() is None:
                os.killpg(p.popen.pid, signal.SIGKILL)
                p.popen.wait(timeout=5)
                p.failed_at = time.monotonic()  # expected: _check and stop() leave it alone
                progress.note(f"fault injected: killed {name} at {elapsed:.1f} s")
    return kills


def check(procs: list[Proc], failures: list[str], progress: Any) -> None:
    for p in procs:
        if p.failed_at is None and p.popen.poll() is not None:
            p.failed_at = time.monotonic()
            text = f"process {p.group.name} exited early with {p.popen.returncode}; log {p.log}"
            failures.append(text + "\n" + log_tail(p.log))
            progress.note(text + "\n" + log_tail(p.log))
