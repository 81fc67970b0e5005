"""The edge's answer rule: when the edge answers a task, and how (ENACHI.md sections 4 and 7).

One function, called by the tail node on every evaluation of a task and by the simulator in its
slot loop, so the live edge and the simulated one answer at the same moments:

- every packet of the task arrived: answer (``COMPLETE``; nothing is left to save, so it is not
  an early stop, and no STOP is needed);
- the entropy of the prediction from the packets held is at most theta, on a progressive task
  (``core.progressive.stop_rule``), or a hindsight policy's packet target was reached: answer
  and send STOP (``EARLY_STOP``);
- the window ends (``window_over``): answer from whatever arrived (``WINDOW_END``), unless the
  decision asked for a full transmission (``partial_ok`` false: ``INCOMPLETE``, no prediction),
  or nothing arrived (``NO_PACKET``: the robot's ledger records the drop);
- otherwise ``WAIT``.

Only a task holding at least one packet can be answered: an answer from zero packets is a guess
from the fill values, which the scoring rule (``core.scoring``) does not credit.
"""

from __future__ import annotations

import numpy as np

from enachi_ros.core.progressive import stop_rule

WAIT, COMPLETE, EARLY_STOP, WINDOW_END, INCOMPLETE, NO_PACKET = range(6)
ANSWER_KINDS: tuple[str, ...] = ("wait", "complete", "early_stop", "window_end", "incomplete",
                                 "no_packet")


def edge_answer(
    *,
    received,
    total,
    entropy,
    theta,
    progressive,
    window_over,
    partial_ok,
    stop_at_packets=-1,
) -> np.ndarray:
    """Answer kind per task (``ANSWER_KINDS`` codes), elementwise over arrays or scalars.

    ``received``: packets the current prediction was computed from; ``total``: packets of the
    task; ``entropy``: normalized entropy of that prediction; ``theta``, ``progressive``: the
    decision's stop rule; ``stop_at_packets``: a hindsight packet target (<= 0: none).
    """
    received = np.asarray(received)
    got = received >= 1
    stop = stop_rule(entropy, theta, progressive)
    target = np.asarray(stop_at_packets)
    stop = got & (stop | ((target > 0) & (received >= target)))
    over = np.asarray(window_over, bool)
    at_end = np.where(~got, NO_PACKET,
                      np.where(np.asarray(partial_ok, bool), WINDOW_END, INCOMPLETE))
    kind = np.where(over, at_end, WAIT)
    kind = np.where(stop, EARLY_STOP, kind)
    kind = np.where(got & (received >= np.asarray(total)), COMPLETE, kind)
    return kind.astype(np.int8)
