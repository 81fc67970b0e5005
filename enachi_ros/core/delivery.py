"""The measured delivery rate of each robot's link, the one the planners use [ours].

Packets are lost for two reasons: a slot below the decoding SNR (the channel model, which the
planners already know through the ergodic rate with outage) and *residual* loss on top of it
(interference, collisions, a bad driver: ``radio.residual_loss`` in the emulated link). The
scheduler is not told the residual loss of a real link; it measures it from what the robots
report after each task (``ChannelReport.packet_loss_rate`` = packets lost / packets sent in that
task, with the lost packets re-sent while the window lasts) and plans with the delivery rate
``d = 1 - loss``: a lost packet's airtime and energy are spent and the packet has to be sent
again, so the rate that counts against the deadline is the goodput ``d x rate``
(``solver.plan_outcome``, ``solver.solve_outer``).

The estimate is a *pooled* ratio, packets lost over packets sent, not the mean of per-task
ratios: with re-sending, a one-packet task that needed N attempts reports (N - 1) / N, whose
mean is 1 + d ln(d) / (1 - d), e.g. 0.31 at a true loss of 0.5, while the pooled ratio
converges to the loss. Each report is weighted by the bits it sent (a report carries a rate, not
a packet count; a packet's loss does not depend on its size, so the bit-weighted ratio
converges to the per-packet loss too), and a report that sent nothing carries no information
and is ignored.

Forgetting is per *frame*, not per report (``step`` once a frame; ``smoothing`` = the weight of
one frame's reports, as for the channel gain), towards a prior that is never forgotten: the
prior loss ``prior_loss`` counts as ``prior_reports`` reports of the size of the robot's first
one. The default prior is no residual loss (an optimistic prior: before its reports, or once they
are old, a robot is planned on its SNR alone, as before loss-aware planning). Forgetting per
frame is what keeps the estimate alive: a robot whose measured loss made every transmitting plan
look hopeless runs on the robot or skips and sends no reports; per-report forgetting would keep
that pessimistic estimate for ever, while per-frame forgetting lets it drift back to the prior
until a plan transmits again and its reports measure the link anew (in the simulator, a budgeted
baseline stopped for good after one unlucky task). The cost: at steady state the prior keeps
about ``smoothing x prior_reports`` of the weight (9% by default), so a 50% loss is planned
as ~45%. The result is clipped to ``[floor, 1]`` so that a robot whose every packet was lost
still has a finite, tiny rate (its plans then deliver nothing and it is skipped or runs on the
robot), never a division by zero.

The scheduler node and the simulator build the same estimator with the same defaults and feed it
the same quantities (the simulator from its own simulated losses), so a frame is planned on the
same delivery rate in both: the simulator per frame ``update`` (``step`` then that frame's
reports), the scheduler ``note`` per report as it arrives and ``step`` right after each decision.
"""

from __future__ import annotations

import numpy as np

DELIVERY_SMOOTHING = 0.1  # ~10 frames of memory: 2 s at the live 0.2 s frames
DELIVERY_PRIOR_REPORTS = 1.0
DELIVERY_FLOOR = 0.01


def report_loss_rate(packets_lost, packets_sent) -> np.ndarray:
    """A task's ``packet_loss_rate`` as a robot reports it: lost / sent (0 when nothing was
    sent; such a report also has no bits sent and is ignored by the estimator)."""
    sent = np.asarray(packets_sent, float)
    return np.asarray(packets_lost, float) / np.maximum(sent, 1.0)


def report_bits_sent(rate_bps: float, slots: int, slot_s: float) -> float:
    """Bits a task sent, from its channel report: ``rate_bps`` is the bits sent (lost ones
    included) over the ``slots`` slots the transmitter stepped (``len(slot_gain)``)."""
    bits = float(rate_bps) * int(slots) * float(slot_s)
    return bits if np.isfinite(bits) and bits > 0 else 0.0


class DeliveryEstimator:
    """Per robot, the fraction of sent packets that arrive, from the robots' loss reports."""

    def __init__(self, n_robots: int, prior_loss: float = 0.0, *,
                 smoothing: float = DELIVERY_SMOOTHING,
                 prior_reports: float = DELIVERY_PRIOR_REPORTS,
                 floor: float = DELIVERY_FLOOR) -> None:
        if n_robots < 1:
            raise ValueError(f"n_robots: expected >= 1, got {n_robots}")
        if not 0 <= prior_loss < 1:
            raise ValueError(f"prior_loss: expected in [0, 1), got {prior_loss}")
        if not 0 < smoothing <= 1:
            raise ValueError(f"smoothing: expected in (0, 1], got {smoothing}")
        if not prior_reports > 0:
            raise ValueError(f"prior_reports: expected > 0, got {prior_reports}")
        if not 0 < floor <= 1:
            raise ValueError(f"floor: expected in (0, 1], got {floor}")
        self.prior_loss, self.smoothing = float(prior_loss), float(smoothing)
        self.prior_reports, self.floor = float(prior_reports), float(floor)
        self._prior = np.zeros(n_robots)  # the prior's weight in bits (set by the first report)
        self._sent = np.zeros(n_robots)  # discounted bits sent
        self._lost = np.zeros(n_robots)  # discounted bits lost

    def note(self, robot, loss_rate, bits_sent) -> np.ndarray:
        """Add reports: ``robot`` an index (or index array), ``loss_rate`` in [0, 1] = lost /
        sent of the task, ``bits_sent`` >= 0 its weight. A report that is not finite, out of
        range or sent nothing is ignored. Returns the new estimate."""
        idx = np.atleast_1d(np.asarray(robot, int))
        loss = np.broadcast_to(np.asarray(loss_rate, float), idx.shape)
        bits = np.broadcast_to(np.asarray(bits_sent, float), idx.shape)
        ok = np.isfinite(loss) & (loss >= 0) & (loss <= 1) & np.isfinite(bits) & (bits > 0)
        for i, x, w in zip(idx[ok], loss[ok], bits[ok], strict=True):
            if self._prior[i] <= 0:  # worth prior_reports of the first report
                self._prior[i] = self.prior_reports * self.smoothing * w
            self._sent[i] += self.smoothing * w
            self._lost[i] += self.smoothing * w * x
        return self.delivery

    def step(self) -> None:
        """One frame has passed: every robot's reports so far lose ``smoothing`` of their weight
        (a robot that reports nothing drifts back to the prior)."""
        self._sent *= 1.0 - self.smoothing
        self._lost *= 1.0 - self.smoothing

    def update(self, loss_rate, bits_sent) -> np.ndarray:
        """One frame of the simulator: ``step``, then one report per robot (arrays over robots,
        or scalars for all; NaN loss or no bits sent: no report). Returns the new estimate."""
        self.step()
        n = self._sent.size
        loss = np.broadcast_to(np.asarray(loss_rate, float), (n,))
        bits = np.broadcast_to(np.asarray(bits_sent, float), (n,))
        return self.note(np.arange(n), loss, bits)

    @property
    def delivery(self) -> np.ndarray:
        """Per robot, the planned delivery rate ``1 - loss`` in ``[floor, 1]``."""
        weight = self._prior + self._sent
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = np.where(weight > 0, (self._prior * self.prior_loss + self._lost)
                            / np.where(weight > 0, weight, 1.0), self.prior_loss)
        return np.clip(1.0 - loss, self.floor, 1.0)
