"""Request durations that make ``histogram_quantile`` report a chosen latency exactly.

``histogram_quantile(q, ...)`` assumes requests are spread uniformly inside each bucket and interpolates
linearly. A distribution that *is* piecewise uniform between bucket boundaries is therefore reported exactly.
The plain choice is durations uniform on ``[0, level/q]``: its q-quantile is ``level``, and the interpolation
is exact when a bucket boundary lies in ``[level, level/q]``. When none does, the bucket ``(lo, hi]`` holding
``level`` gets all the requests above ``lo`` (uniform in it) and the rest sits uniformly below ``lo``, in the
proportion that puts the interpolated quantile on ``level``.

One limit is the histogram's, not the model's: interpolation can never land in the top ``1 - q`` share of a
bucket, nor above the highest finite boundary. Such a level is lowered to the nearest reachable value and
:attr:`LatencyModel.effective` says what ``histogram_quantile`` will really report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LatencyModel:
    """A piecewise-linear duration CDF through ``knots`` ``(seconds, cumulative share)``, ending at share 1."""

    knots: tuple[tuple[float, float], ...]
    quantile: float
    requested: float
    effective: float

    def share_at_most(self, seconds: float) -> float:
        """The share of requests that take at most ``seconds`` (the ``le`` bucket's share)."""
        x0, f0 = self.knots[0]
        if seconds < x0:
            return 0.0
        previous_x, previous_f = x0, f0
        for x, f in self.knots[1:]:
            if seconds <= x:
                if x == previous_x:
                    return f
                return previous_f + (f - previous_f) * (seconds - previous_x) / (x - previous_x)
            previous_x, previous_f = x, f
        return 1.0

    def mean(self) -> float:
        """The mean request duration (what ``_sum`` grows by per request)."""
        x0, f0 = self.knots[0]
        total = x0 * f0
        for (xa, fa), (xb, fb) in zip(self.knots, self.knots[1:], strict=False):
            total += (fb - fa) * (xa + xb) / 2.0
        return total


def latency_model(level: float, quantile: float, buckets: Sequence[float]) -> LatencyModel:
    """The duration distribution whose ``histogram_quantile(quantile)`` over ``buckets`` is ``level``."""
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"latency quantile must be between 0 and 1 (exclusive), got {quantile}")
    if level <= 0.0:
        raise ValueError(f"latency level must be a positive number of seconds, got {level}")
    bounds = sorted(b for b in buckets if b > 0.0 and b != float("inf"))
    if not bounds:
        raise ValueError("the histogram has no finite positive bucket boundary")
    spread = level / quantile
    upper = [b for b in bounds if b >= level]
    if not upper:
        # Beyond the last finite bucket histogram_quantile answers that bucket's upper bound.
        return LatencyModel(((0.0, 0.0), (spread, 1.0)), quantile, level, bounds[-1])
    hi = upper[0]
    lo = max((b for b in bounds if b < level), default=0.0)
    if spread >= hi:
        return LatencyModel(((0.0, 0.0), (spread, 1.0)), quantile, level, level)
    position = (level - lo) / (hi - lo)
    if position <= quantile:
        below = (quantile - position) / (1.0 - position)
        knots = ((0.0, below), (hi, 1.0)) if lo == 0.0 else ((0.0, 0.0), (lo, below), (hi, 1.0))
        return LatencyModel(knots, quantile, level, level)
    reachable = lo + quantile * (hi - lo)
    knots = ((0.0, 0.0), (hi, 1.0)) if lo == 0.0 else ((0.0, 0.0), (lo, 0.0), (hi, 1.0))
    return LatencyModel(knots, quantile, level, reachable)
