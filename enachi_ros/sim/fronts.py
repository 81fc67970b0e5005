"""Accuracy-energy fronts and the comparisons read off them (ENACHI.md section 7).

A policy's operating points (energy per task, accuracy) come from its runs at different budgets
E_bar and weights V. Its *front* is the most accuracy it can reach with at most a given energy:
the upper concave hull of its points and of the origin (skipping every task costs nothing and
answers nothing), made non-decreasing. Points between two operating points are reachable by
time-sharing between them, so the hull, not only the points, is what the policy can do; the
same construction is used for every policy, baselines included.

From the fronts: the accuracy gain at matched energy (each front read at the same energy) and
the energy reduction at matched accuracy (the energy each front needs for the same accuracy),
each against the strongest baseline at that point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Front:
    """Vertices of a front, energy increasing, accuracy non-decreasing, starting at (0, 0)."""

    energy: np.ndarray
    accuracy: np.ndarray

    @classmethod
    def of(cls, energy, accuracy) -> Front:
        e = np.concatenate([[0.0], np.asarray(energy, float)])
        a = np.concatenate([[0.0], np.asarray(accuracy, float)])
        ok = np.isfinite(e) & np.isfinite(a) & (e >= 0)
        e, a = e[ok], a[ok]
        order = np.lexsort((-a, e))  # by energy, best accuracy first at equal energy
        hull: list[tuple[float, float]] = []
        for x, y in zip(e[order], a[order], strict=True):
            if hull and x == hull[-1][0]:
                continue  # same energy, lower accuracy
            while len(hull) >= 2:  # upper hull: drop a vertex under the chord
                (x0, y0), (x1, y1) = hull[-2], hull[-1]
                if (y1 - y0) * (x - x0) <= (y - y0) * (x1 - x0):
                    hull.pop()
                else:
                    break
            hull.append((x, y))
        xs, ys = np.array(hull).T
        peak = int(np.argmax(ys))  # beyond the best point more energy buys nothing
        return cls(xs[: peak + 1], ys[: peak + 1])

    def accuracy_at(self, energy) -> np.ndarray:
        """The most accuracy reachable with at most ``energy`` per task."""
        return np.interp(np.asarray(energy, float), self.energy, self.accuracy)

    def energy_for(self, accuracy) -> np.ndarray:
        """The least energy per task that reaches ``accuracy`` (inf if the front never does)."""
        a = np.asarray(accuracy, float)
        if self.energy.size == 1:  # only the origin
            return np.where(a <= 0, 0.0, np.inf)
        out = np.interp(a, self.accuracy, self.energy)
        return np.where(a > self.accuracy[-1] + 1e-12, np.inf, out)

    @property
    def best(self) -> tuple[float, float]:
        """(energy, accuracy) of the most accurate vertex."""
        return float(self.energy[-1]), float(self.accuracy[-1])


def family(policy: str) -> str:
    """The baseline a policy belongs to: ``edge_only_unbudgeted`` is an operating point of
    ``edge_only`` (the baseline without its budget gate)."""
    return policy.removesuffix("_unbudgeted")


def fronts_by_family(points: list[tuple[str, float, float]]) -> dict[str, Front]:
    """``(policy, energy, accuracy)`` operating points -> one front per policy family."""
    grouped: dict[str, list[tuple[float, float]]] = {}
    for policy, energy, accuracy in points:
        grouped.setdefault(family(policy), []).append((energy, accuracy))
    return {name: Front.of(*np.array(pts).T) for name, pts in grouped.items()}


def compare_at(
    per_seed: list[list[tuple[str, float, float]]],
    energies: list[float],
    baselines: tuple[str, ...],
    ours: str = "enachi",
) -> list[dict]:
    """Read every seed's fronts at each reference energy; compare ``ours`` with the strongest
    baseline there, chosen in each seed (the conservative reading: the best of the baseline
    families in that seed, so noise favours the baselines), paired over seeds.

    ``per_seed``: per seed, the ``(policy, energy, accuracy)`` operating points. Per reference
    energy E and seed:
    - accuracy gain at matched energy: ``ours``'s front at E minus the most accurate baseline
      front at E;
    - energy reduction at matched accuracy: with A = ``ours``'s front at E, the log ratio
      ``ln(E_ours(A) / E_base(A))`` where E_base is the least energy any baseline front needs
      for A, paired over seeds (a ratio's interval on the log scale cannot claim more than a
      100% reduction, as a t-interval on ``1 - a/b`` can); reported as the reduction
      ``1 - exp(mean)`` with the interval ``1 - exp(mean +/- half-width)``. A seed where no
      baseline front reaches A is counted as unreachable and left out of the interval; the
      verdict is that of the seeds that can be compared, whatever the others say.
    ``baseline`` names the family that was strongest in most seeds; ``vs`` compares ``ours``
    with every family on its own.
    """
    from enachi_ros.sim.stats import mean_ci, paired

    fronts = [fronts_by_family(points) for points in per_seed]
    names = [b for b in baselines if all(b in f for f in fronts)]
    out = []
    for e_ref in energies:
        acc = {name: np.array([f[name].accuracy_at(e_ref) for f in fronts])
               for name in (ours, *names)}
        row: dict = {"energy_j": e_ref, "accuracy": {k: float(v.mean()) for k, v in acc.items()},
                     "vs": {b: paired(acc[ours], acc[b]).as_dict() for b in names}}
        if names:
            table = np.array([acc[b] for b in names])  # [families, seeds]
            best = table.max(axis=0)
            gain = paired(acc[ours], best)
            base = float(best.mean())
            row["gain"] = {"baseline": _most_often(names, table.argmax(axis=0)),
                           "baseline_accuracy": base, **gain.as_dict(),
                           "relative": gain.mean / base if base > 0 else None}
            need = np.array([[f[b].energy_for(a) for f, a in zip(fronts, acc[ours], strict=True)]
                             for b in names])
            ours_need = np.array([f[ours].energy_for(a)
                                  for f, a in zip(fronts, acc[ours], strict=True)])
            least = need.min(axis=0)
            something = acc[ours] > 0  # at accuracy 0 there is nothing to match
            reach = np.isfinite(least) & something & (least > 0) & (ours_need > 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                log_ratio = np.where(reach, np.log(ours_need / least), np.nan)
            ci = mean_ci(log_ratio)
            row["reduction"] = {
                "baseline": _most_often(names, need.argmin(axis=0)),
                "accuracy": float(acc[ours].mean()),
                **reduction_of(ci),
                "energy_j": {ours: _finite_mean(ours_need), "baseline": _finite_mean(least)},
                "seeds_unreachable": int((~reach & something).sum()),
                "seeds_zero_accuracy": int((~something).sum()),
            }
        out.append(row)
    return out


def reduction_of(log_ratio) -> dict:
    """An energy reduction from the paired log ratio ``ln(E_ours / E_base)`` over seeds: the
    reduction ``1 - exp(mean)``, its interval from the log-scale interval, and the verdict
    ('win' when ours needs less energy with the whole interval below 0)."""
    m, hw = log_ratio.mean, log_ratio.half_width
    verdict = {"win": "loss", "loss": "win"}.get(log_ratio.verdict, "tie")  # less energy: win
    return {"mean": 1.0 - float(np.exp(m)) if np.isfinite(m) else float("nan"),
            "low": 1.0 - float(np.exp(m + hw)) if np.isfinite(m + hw) else float("-inf"),
            "high": 1.0 - float(np.exp(m - hw)) if np.isfinite(m - hw) else 1.0,
            "log_ratio": log_ratio.as_dict(), "n": log_ratio.n, "verdict": verdict}


def _most_often(names: list[str], index: np.ndarray) -> str:
    counts = np.bincount(np.asarray(index, int), minlength=len(names))
    return names[int(np.argmax(counts))]


def _finite_mean(values: np.ndarray) -> float | None:
    ok = np.isfinite(values)
    return float(values[ok].mean()) if ok.any() else None
