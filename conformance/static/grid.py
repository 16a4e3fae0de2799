"""Which time grid depth 3 runs an alert's cases on, chosen from how far back the alert reads.

promtool pays for every step of its grids whatever happens in them: every input step of every input series is a
sample or a gap its parser expands (:mod:`conformance.static.cost`), every evaluation step evaluates the batch's
rules and reads each range window whole. An alert that reads minutes back runs on the fine grid: scraped off the
evaluation grid with jitter on a 1 s input grid (:mod:`conformance.static.clock`), evaluated as the profile says.

An alert whose closure reads more than :data:`COARSE_LOOKBACK_S` back (a 30-day SLO, a ``[7d]`` trend) runs on the
coarse grid instead, so its cost follows the window divided by the coarse step:

* input on the scrape grid itself: one input step per scrape, and a steady stretch is one ``a+bxN`` token however
  long (a 30-day healthy warm-up is a handful of tokens per series, not 2.6 million input steps). The offset and
  jitter the fine clock adds only change what ``rate()`` extrapolates at a window's edges, by at most one scrape
  interval out of the window: under 0.2% of a 6-hour window;
* evaluation every :data:`COARSE_STEPS_PER_LOOKBACK`-th of the look-back, rounded up to a multiple of the
  profile's interval (never finer than it): 90 seconds for 7 days, 5 minutes for 30 days, an hour for a year. A case
  then costs about the same number of evaluations whatever its window, and a range window over a recorded series
  holds at most 8,640 of its samples: promtool's query engine refuses a query that loads more than 10,000 samples
  ("query processing would load too many samples into memory"; measured with promtool 2.42). A window over a
  scraped series holds a sample a scrape whatever the grid, so ``[7d]`` of a series scraped every 30 s (20,160
  samples) is beyond what ``promtool test rules`` can evaluate at all, and the budget
  (:mod:`conformance.static.cost`) refuses a year of one before anything runs.

What the verdict needs around the fault keeps its accuracy: the fault, its revert and the horizon stay on the
scrape grid and every scrape around them is sampled (:func:`conformance.static.series.record_case` never takes a
steady stretch across them); the cases' timing bounds (:mod:`conformance.static.cases`) are computed with the
coarse evaluation interval, so sampling slack, the first evaluation that can see the fault and the sustain margin
are those of the grid actually run. What is lost is resolution finer than one coarse evaluation on the ``for``:
a firing time is a whole number of coarse evaluations, which next to a window of hours is what the latest-fire
bound (window + ``for`` + slack) can tell anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from conformance.model.durations import format_duration
from conformance.static.clock import ScrapeClock

#: Look-backs longer than this run on the coarse grid (the bundled profiles read at most 15 minutes back).
COARSE_LOOKBACK_S = 6 * 3600.0
#: The coarse evaluation interval is the look-back divided by this (30 days: 5 minutes).
COARSE_STEPS_PER_LOOKBACK = 8640


@dataclass(frozen=True)
class Grid:
    """The input clock of an alert's cases and the evaluation interval of the promtool test file they run in."""

    clock: ScrapeClock
    evaluation_s: float
    coarse: bool = False

    def describe(self) -> str:
        """``coarse grid (input every 30s, evaluation every 5m)``, or the fine grid's, for the run's header."""
        kind = "coarse" if self.coarse else "fine"
        step, evaluation = format_duration(self.clock.step_s), format_duration(self.evaluation_s)
        return f"{kind} grid (input every {step}, evaluation every {evaluation})"


def choose_grid(lookback_s: float, scrape_s: float, evaluation_s: float) -> Grid:
    """The grid for an alert whose closure reads ``lookback_s`` back (see the module's docstring)."""
    if lookback_s <= COARSE_LOOKBACK_S:
        return Grid(ScrapeClock.realistic(scrape_s), evaluation_s)
    coarse_evaluation = max(
        evaluation_s, math.ceil(lookback_s / COARSE_STEPS_PER_LOOKBACK / evaluation_s - 1e-9) * evaluation_s
    )
    return Grid(ScrapeClock.on_grid(scrape_s), coarse_evaluation, coarse=True)
