"""A warm start for the twin: the healthy warm-up written into Prometheus's storage instead of waited for.

Depth 3 judges every fault after a healthy warm-up long enough to fill the pack's longest range window. Waiting
that long in wall time is most of a live run, so the twin runs the warm-up in virtual time before Prometheus
starts instead:

1. :func:`sample_warmup` advances the simulated cluster on the scrape grid and takes, at each step, exactly the
   series Prometheus would store after scraping every target (``stored_samples``: target labels merged,
   ``up`` included, the ServiceMonitors' metric drops applied). A series is kept only from where some rule can
   still read it once Prometheus runs (:mod:`conformance.twin.reach`: a 5-minute rate needs 5 minutes of it, a
   ``predict_linear(...[6h])`` six hours), and only as what changes: runs of samples that hold one value or
   move by one step (:class:`~conformance.static.series.Run`, depth 3's steady stretch), so a six-hour warm-up of
   a steady cluster holds a few runs per series, not a sample per scrape;
2. :func:`write_openmetrics` writes them to a file as they are expanded again, with past timestamps (each
   virtual second mapped to the wall time it would have had on the live clock, so the last one falls just before
   the live scrapes begin), never holding the text;
3. :func:`create_blocks` turns that file into TSDB blocks in Prometheus's data directory with
   ``promtool tsdb create-blocks-from openmetrics``.

Prometheus then starts with its range windows already full, and the cluster clock continues the same cluster
from the end of the warm-up: the live scrapes carry on the same series (same labels, counters without reset).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from conformance.errors import BackendError
from conformance.sim.exposition import escape_label_value, format_value
from conformance.sim.types import SeriesKey
from conformance.static.series import Gap, Run
from conformance.tools import run_command
from conformance.twin.exporter import ClusterLike

PROMTOOL_TIMEOUT_S = 120.0


@runtime_checkable
class SampledCluster(ClusterLike, Protocol):
    """A cluster that can say what Prometheus would store, so its warm-up can be backfilled."""

    def stored_samples(self, names: Collection[str] | None = None) -> Mapping[SeriesKey, float]: ...


class ReachLike(Protocol):
    """How far back before the live start the rules read each metric (:class:`conformance.twin.reach.Reach`)."""

    @property
    def names(self) -> frozenset[str] | None: ...

    def seconds(self, name: str) -> float | None:
        """How far back the furthest rule reads series of ``name``; None when no rule reads them."""
        ...


class _Track:
    """One series' samples: the closed runs and gaps, then the open run (``first``, ``step``, ``count``).

    A sample joins the open run only when ``first + k * step`` (its position ``k`` in the run) is exactly its
    value, the expression :meth:`samples` computes again: what is written is what was sampled, bit for bit.
    """

    __slots__ = ("closed", "count", "end", "first", "step")

    def __init__(self) -> None:
        self.closed: list[Run | Gap] = []
        self.end = 0  # the step after the last sample
        self.first = 0.0
        self.step = 0.0
        self.count = 0

    def add(self, index: int, value: float) -> None:
        if self.count and index == self.end:
            if self.count == 1:
                step = value - self.first
                if self.first + step == value:
                    self.step, self.count, self.end = step, 2, index + 1
                    return
            elif self.first + self.count * self.step == value:
                self.count += 1
                self.end = index + 1
                return
        if self.count:
            self.closed.append(Run(self.first, self.step, self.count))
        if index > self.end:
            self.closed.append(Gap(index - self.end))
        self.first, self.step, self.count, self.end = value, 0.0, 1, index + 1

    def entries(self) -> Iterator[Run | Gap]:
        yield from self.closed
        if self.count:
            yield Run(self.first, self.step, self.count)

    def samples(self) -> Iterator[tuple[int, float]]:
        """(step, value) in time order."""
        index = 0
        for entry in self.entries():
            if isinstance(entry, Run):
                yield index, entry.first
                for k in range(1, entry.count):
                    yield index + k, entry.first + k * entry.step
            index += entry.count


class Warmup:
    """The stored series of a sampled warm-up: step ``k`` is at virtual second ``min(k * step_s, until_s)``."""

    def __init__(self, until_s: float, step_s: float) -> None:
        if step_s <= 0:
            raise ValueError(f"the scrape step must be positive, got {step_s}")
        self.until_s = until_s
        self.step_s = step_s
        self.tracks: dict[SeriesKey, _Track] = {}

    @property
    def steps(self) -> int:
        """How many steps the warm-up has: every ``step_s`` from 0, and one at ``until_s``."""
        whole = int(self.until_s // self.step_s)
        return whole + (1 if whole * self.step_s >= self.until_s else 2)

    def at(self, index: int) -> float:
        return min(index * self.step_s, self.until_s)

    def steps_from(self, seconds: float) -> int:
        """How many steps are at or after virtual second ``seconds``."""
        if seconds > self.until_s:
            return 0
        first = max(0, math.ceil(seconds / self.step_s))
        while first > 0 and self.at(first - 1) >= seconds:  # the division's rounding, either way
            first -= 1
        while self.at(first) < seconds:
            first += 1
        return self.steps - first

    def add(self, index: int, key: SeriesKey, value: float) -> None:
        track = self.tracks.get(key)
        if track is None:
            track = self.tracks[key] = _Track()
        track.add(index, value)

    def samples(self, key: SeriesKey) -> Iterator[tuple[float, float]]:
        """The series' (virtual second, value) pairs in time order, as they were sampled."""
        for index, value in self.tracks[key].samples():
            yield self.at(index), value

    def segments(self) -> int:
        """How many runs and gaps are held: what the warm-up costs in memory."""
        return sum(len(track.closed) + (1 if track.count else 0) for track in self.tracks.values())


def sample_warmup(cluster: SampledCluster, until_s: float, step_s: float, reach: ReachLike | None = None) -> Warmup:
    """Advance ``cluster`` from its current time to ``until_s``, sampling every ``step_s`` and at the end.

    ``reach`` keeps each series only from ``until_s - reach.seconds(name)`` on and asks the cluster only for the
    names some rule reads, as it reaches them (None: every series, the whole warm-up).
    """
    warmup = Warmup(until_s, step_s)
    starts: dict[str, float] = {}  # metric name -> first virtual second kept
    # The names asked for, earliest first: each joins the request once the warm-up reaches its first second.
    order: list[tuple[float, str]] = []
    if reach is not None and reach.names is not None:
        order = sorted((first_kept_s(name, reach, until_s), name) for name in reach.names)
    wanted: set[str] | None = None if reach is None or reach.names is None else set()
    joined = 0
    keep_from: dict[SeriesKey, float] = {}  # series -> first virtual second kept (its name's)
    for index in range(warmup.steps):
        at = warmup.at(index)
        cluster.advance_to(at)
        while wanted is not None and joined < len(order) and order[joined][0] <= at:
            wanted.add(order[joined][1])
            joined += 1
        for key, value in cluster.stored_samples(wanted).items():
            start = keep_from.get(key)
            if start is None:
                name = dict(key)["__name__"]
                if name not in starts:
                    starts[name] = first_kept_s(name, reach, until_s)
                start = keep_from[key] = starts[name]
            if at >= start:
                warmup.add(index, key, value)
    return warmup


def first_kept_s(name: str, reach: ReachLike | None, until_s: float) -> float:
    """The first virtual second of ``name`` a warm-up of ``until_s`` keeps (infinity: none, no rule reads it)."""
    if reach is None:
        return 0.0
    back = reach.seconds(name)
    return math.inf if back is None else max(0.0, until_s - back)


def write_openmetrics(warmup: Warmup, unix_time_of: Callable[[float], float], path: Path) -> int:
    """Write the warm-up to ``path`` in the OpenMetrics text format promtool backfills from; the lines written.

    Series grouped by metric name (a metric's lines must be contiguous), each series' samples in time order,
    timestamps in Unix seconds (``unix_time_of`` maps a virtual second to one), and the closing ``# EOF``.
    No ``# TYPE`` lines: every metric is ``unknown``, so no naming rule of typed families (``_total`` ...)
    can reject a name the live scrape accepts. Written as the runs are expanded, one series at a time.
    """
    stamps: dict[float, str] = {}  # a stamp per step, formatted once

    def stamp(at: float) -> str:
        text = stamps.get(at)
        if text is None:
            text = stamps[at] = f"{unix_time_of(at):.3f}"
        return text

    lines = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for key in sorted(warmup.tracks, key=_name_then_labels):
            series = series_text(key)
            for at, value in warmup.samples(key):
                out.write(f"{series} {format_value(value)} {stamp(at)}\n")
                lines += 1
        out.write("# EOF\n")
    return lines


def _name_then_labels(key: SeriesKey) -> tuple[str, SeriesKey]:
    return dict(key)["__name__"], key


def series_text(key: SeriesKey) -> str:
    """``name{a="b",...}``, labels sorted and escaped, as OpenMetrics writes a series."""
    labels = dict(key)
    name = labels.pop("__name__")
    if not labels:
        return name
    inner = ",".join(f'{label}="{escape_label_value(value)}"' for label, value in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def create_blocks(source: Path, data_dir: Path, promtool: Path) -> None:
    """Backfill the OpenMetrics file ``source`` into ``data_dir`` (made if missing) as TSDB blocks; remove it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [str(promtool), "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(source), str(data_dir)]
    result = run_command(argv, timeout=PROMTOOL_TIMEOUT_S)
    if result.returncode != 0:
        raise BackendError(
            f"promtool could not backfill the healthy warm-up from {source}:\n{result.output.strip()[-2000:]}"
        )
    source.unlink()
