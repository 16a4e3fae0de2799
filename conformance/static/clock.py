"""When depth 3 samples the simulated cluster: as a real Prometheus scrapes, not on the evaluation grid.

A real Prometheus scrapes each target at a fixed offset from any other clock (a hash of the target spreads the
scrapes over the interval), and every scrape lands a little early or late. Both matter to the functions that
extrapolate to the edges of their range (``rate``, ``increase``, ``delta``): with samples exactly on the window's
edges ``increase()`` of two restarts is exactly 2, with samples inside the window it is 2 x 600/570, and a rule
that only holds on a perfect grid passes promtool and fails in production. So depth 3 scrapes ``offset_s`` after
the evaluation grid, each scrape moved by up to ``jitter_s``, placed on promtool's input grid of
``resolution_s``.

The jitter is deterministic (the same case always gives the same series) and deliberately coarse: a production
Prometheus jitters by milliseconds, one second on a 30 s interval shows any dependence on perfect spacing
while keeping every sample time a whole number of input steps.

An alert that reads more than hours back is scraped on the evaluation grid instead (:meth:`ScrapeClock.on_grid`,
chosen by :mod:`conformance.static.grid`): a 1 s input grid would cost promtool an input step a second of its
window for every series, and the extrapolation the offset shows is a share of one interval out of the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Where in the scrape interval the scrapes land, as a share of it (any share but 0 shows extrapolation).
OFFSET_SHARE = 0.4
#: The largest scrape jitter, in seconds (and promtool's input resolution).
JITTER_S = 1.0

# The jitter of scrape k, in units of jitter_s: a fixed, irregular pattern (no period a window could align to
# within the first few hundred scrapes).
_PATTERN = (0, 1, -1, 1, 0, -1, -1, 1, 0, 1, -1, 0, 1)


@dataclass(frozen=True)
class ScrapeClock:
    """Scrape ``k`` happens at ``k * interval_s + offset_s + jitter(k)``, a whole number of ``resolution_s``."""

    interval_s: float
    offset_s: float = 0.0
    jitter_s: float = 0.0
    resolution_s: float = 0.0  # 0: the interval itself (no offset, no jitter: the evaluation grid)

    def __post_init__(self) -> None:
        step = self.step_s
        for name, value in (("interval", self.interval_s), ("offset", self.offset_s), ("jitter", self.jitter_s)):
            if abs(value / step - round(value / step)) > 1e-9:
                raise ValueError(f"scrape {name} {value:g}s is not a whole number of the {step:g}s resolution")
        if not self.jitter_s <= self.offset_s <= self.interval_s - self.jitter_s - step:
            raise ValueError(
                f"scrape offset {self.offset_s:g}s with jitter {self.jitter_s:g}s "
                f"leaves the {self.interval_s:g}s interval"
            )

    @classmethod
    def on_grid(cls, interval_s: float) -> ScrapeClock:
        """Samples exactly on the evaluation grid (what promtool's own examples do)."""
        return cls(interval_s)

    @classmethod
    def realistic(cls, interval_s: float) -> ScrapeClock:
        """An offset and jitter as a real Prometheus has them (intervals too short for it stay on the grid)."""
        if interval_s < 4 * JITTER_S:
            return cls(interval_s)
        offset = round(interval_s * OFFSET_SHARE / JITTER_S) * JITTER_S
        return cls(interval_s, offset, JITTER_S, JITTER_S)

    @property
    def step_s(self) -> float:
        """promtool's input interval."""
        return self.resolution_s or self.interval_s

    def slot(self, scrape: int) -> int:
        """The input step of scrape ``scrape``."""
        jitter = _PATTERN[scrape % len(_PATTERN)] * self.jitter_s
        return round((scrape * self.interval_s + self.offset_s + jitter) / self.step_s)

    def at(self, scrape: int) -> float:
        """The time of scrape ``scrape``, in seconds from the start of the series."""
        return self.slot(scrape) * self.step_s

    def scrapes_before(self, seconds: float) -> int:
        """How many scrapes happen strictly before ``seconds``."""
        # A lower bound (jitter is less than an interval), then forward to the first scrape at or after it.
        count = max(0, math.floor((seconds - self.offset_s) / self.interval_s) - 1)
        while self.at(count) < seconds - 1e-9:
            count += 1
        return count

    def scrapes_until(self, seconds: float) -> int:
        """How many scrapes happen at or before ``seconds``."""
        return self.scrapes_before(seconds + 1e-6)
