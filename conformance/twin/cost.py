"""What the twin's backfilled warm-up will cost in memory, estimated before any lane starts, and its budget.

A warm-up that would exceed ``--budget-memory`` stops the live run before anything starts, with one line naming
the metric, the rule and the window responsible: a long window must never meet the kernel's OOM killer.

The model, measured with promtool 2.42 (:mod:`conformance.twin.backfill` says what each step does):

* the twin holds the sampled warm-up as runs of samples, at worst one per sample (a series that never holds still
  nor moves by one step), about :data:`RUN_BYTES` each;
* the OpenMetrics file has a line per sample: the series as text and about :data:`LINE_EXTRA_BYTES` of value and
  timestamp;
* ``promtool tsdb create-blocks-from openmetrics`` maps the whole file and parses it once per two-hour block: its
  resident memory is about :data:`PROMTOOL_BASE_BYTES` plus :data:`PROMTOOL_FILE_RATIO` times the file (a 10 MiB
  file: 70 MiB; 250 MiB: 345 MiB; 480 MiB: 600 MiB);
* every lane samples its warm-up side by side, so the twin may hold one per lane at once;
* promtool runs side by side in as many lanes as the budget holds, at least one
  (:meth:`WarmupEstimate.promtool_slots`); the check is for one at a time;

all on top of the Python process itself (:data:`conformance.static.cost.PYTHON_BASE_BYTES`).

The series are counted in the healthy simulated cluster at its first scrape, each kept from where some rule reads
it (:mod:`conformance.twin.reach`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from conformance.errors import BudgetError
from conformance.sim.types import SeriesKey
from conformance.static.closure import format_span
from conformance.static.cost import PYTHON_BASE_BYTES, format_bytes
from conformance.twin.backfill import ReachLike, Warmup, first_kept_s, series_text
from conformance.twin.reach import Reach

RUN_BYTES = 200
LINE_EXTRA_BYTES = 40
PROMTOOL_BASE_BYTES = 60 * 2**20
PROMTOOL_FILE_RATIO = 1.1


@dataclass(frozen=True)
class WarmupEstimate:
    """One lane's backfill: samples and series written, the file, and the run's peak memory while it lasts."""

    samples: int
    series: int
    file_bytes: int
    #: metric name -> samples written of it, to name the one that costs most
    by_name: Mapping[str, int]
    #: lanes backfilling side by side
    lanes: int = 1

    @property
    def runs_bytes(self) -> int:
        """The twin's share: a warm-up per lane held as runs, at worst one run per sample."""
        return self.lanes * self.samples * RUN_BYTES

    @property
    def promtool_bytes(self) -> int:
        """One promtool backfilling the file."""
        return PROMTOOL_BASE_BYTES + int(self.file_bytes * PROMTOOL_FILE_RATIO)

    @property
    def peak_bytes(self) -> int:
        """The run's peak while it backfills, promtool running in one lane at a time."""
        return PYTHON_BASE_BYTES + self.runs_bytes + self.promtool_bytes

    def promtool_slots(self, budget_bytes: int) -> int:
        """How many lanes may run promtool side by side within ``budget_bytes`` (1 to every lane)."""
        room = budget_bytes - PYTHON_BASE_BYTES - self.runs_bytes
        return max(1, min(self.lanes, room // max(1, self.promtool_bytes)))

    def costliest(self) -> str | None:
        return max(self.by_name, key=lambda name: self.by_name[name], default=None)


def estimate_warmup(
    stored: Mapping[SeriesKey, float], reach: ReachLike | None, until_s: float, step_s: float, *, lanes: int = 1
) -> WarmupEstimate:
    """The cost of backfilling ``until_s`` virtual seconds of the series in ``stored`` (a healthy scrape) in
    ``lanes`` lanes side by side."""
    grid = Warmup(until_s, step_s)
    samples = file_bytes = 0
    by_name: dict[str, int] = {}
    starts: dict[str, float] = {}
    series = 0
    for key in stored:
        name = dict(key)["__name__"]
        if name not in starts:
            starts[name] = first_kept_s(name, reach, until_s)
        count = grid.steps_from(starts[name])
        if not count:
            continue
        series += 1
        samples += count
        file_bytes += count * (len(series_text(key)) + LINE_EXTRA_BYTES)
        by_name[name] = by_name.get(name, 0) + count
    return WarmupEstimate(samples, series, file_bytes, by_name, lanes)


def check_warmup_budget(
    found: WarmupEstimate, reach: Reach | None, until_s: float, budget_bytes: int, *, length_why: str = ""
) -> None:
    """:class:`BudgetError` with one line when ``found`` exceeds ``budget_bytes``: the warm-up's length and the
    alert it is for (``length_why``), and the metric that costs most with the rule and window that keep it."""
    if found.peak_bytes <= budget_bytes:
        return
    span = format_span(until_s) + (f" ({length_why})" if length_why else "")
    mostly = ""
    name = found.costliest()
    if name is not None:
        mostly = f"; mostly {name} ({found.by_name[name]:,} samples)"
        furthest = reach.furthest(name) if reach is not None else None
        if furthest is not None:
            rule, read, _ = furthest
            reads = f"reads [{format_span(read.back_s)}] of it" if read.back_s else "reads it"
            mostly += f", which {rule.alert or rule.record} ({rule.where()}) {reads}"
    raise BudgetError(
        f"the live twin's backfilled warm-up would need about {format_bytes(found.peak_bytes)} of memory (budget "
        f"{format_bytes(budget_bytes)}): {found.samples:,} samples of {found.series:,} series over {span}{mostly}; "
        "raise the budget with --budget-memory, or leave the alert out of the profile"
    )
