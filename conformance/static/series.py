"""Turn a case into the series promtool reads: the simulated cluster scraped as :mod:`.clock` says.

Only series some rule can select are kept (metric names and matchers read from the rules through
promql-parser), which keeps test files small without losing anything a rule could see.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import promql_parser

from conformance.model.workloads import Environment
from conformance.static.cases import Case
from conformance.static.clock import ScrapeClock

if TYPE_CHECKING:
    from conformance.sim import SimulatedCluster

SeriesKey = tuple[tuple[str, str], ...]
STALE = "stale"


@dataclass(frozen=True)
class Selector:
    """A vector selector's metric name (or None) and label matchers as (label, op, value)."""

    name: str | None
    matchers: tuple[tuple[str, str, str], ...]

    def matches(self, labels: dict[str, str]) -> bool:
        if self.name is not None and labels.get("__name__") != self.name:
            return False
        for label, op, value in self.matchers:
            actual = labels.get(label, "")
            if op == "=" and actual != value:
                return False
            if op == "!=" and actual == value:
                return False
            if op == "=~" and not re.fullmatch(value, actual):
                return False
            if op == "!~" and re.fullmatch(value, actual):
                return False
        return True


# MatchOp values are not hashable: compare by their printed name.
_MATCH_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


def _match_op(op: object) -> str:
    return _MATCH_OPS[str(op)]


def selectors_in(expressions: Iterable[str]) -> list[Selector]:
    """Every vector selector of every expression (ALERTS and ALERTS_FOR_STATE excluded: promtool makes them)."""
    found: list[Selector] = []

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = tuple((m.name, _match_op(m.op), m.value) for m in node.matchers.matchers if m.name != "__name__")
            name_matchers = [m for m in node.matchers.matchers if m.name == "__name__"]
            name = node.name
            if name in ("ALERTS", "ALERTS_FOR_STATE"):
                return
            if name is None and name_matchers:
                matchers = (*matchers, *(("__name__", _match_op(m.op), m.value) for m in name_matchers))
            found.append(Selector(name, matchers))

    for expression in expressions:
        promql_parser.walk(promql_parser.parse(expression), visit, None)
    return found


def _format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".12g")


@dataclass(frozen=True)
class Run:
    """``count`` scrapes of a steady stretch: the first scrape's value is ``first`` and the series moves by ``step``
    per input step of promtool's grid (a counter at a constant rate, a gauge that holds or ramps linearly).

    On the evaluation grid every scrape is one input step, so the values are ``first``, ``first + step``, ...; with
    an offset and jitter (:mod:`.clock`) a scrape's value is ``first + step`` times its distance in input steps from
    the stretch's first scrape."""

    first: float
    step: float
    count: int


@dataclass(frozen=True)
class Gap:
    """``count`` scrapes without a sample."""

    count: int


Entry = float | str | None | Run | Gap
"""One item of a column: a value, a preformatted token (``stale``), one missing sample, or a stretch of them."""

#: Integers below this are exact in float64, so promtool's ``a+bxN`` expansion reproduces them exactly.
_EXACT = 2.0**52


def _integral(value: float) -> bool:
    return math.isfinite(value) and value == int(value) and abs(value) < _EXACT


def encode_values(values: Sequence[Entry], slots: Sequence[int] | None = None) -> str:
    """promtool's value notation for a column of scrapes: runs of one value as ``vxN`` (N+1 samples), whole-number
    steady stretches as ``a+bxN``, gaps as ``_xN`` (N gaps).

    Scrape ``k`` lands on input step ``slots[k]`` (increasing; every other step is a gap), or on step ``k`` when
    ``slots`` is None. A token can only stand for samples on consecutive input steps: on the evaluation grid a
    steady stretch of a whole-number series is one token however long (a 30-day window of a counter at a constant
    rate is ``a+bx86399``, not 86,400 numbers); scraped off the grid (one sample every interval on a finer input
    grid) it is one value and one gap per scrape, but still costs no simulation. Stretches of fractional values are
    written sample by sample: promtool sums ``a+bxN`` step by step in float64, and a sum that ends a hair above the
    next sample would be a counter reset to ``rate()``.
    """

    def slot_of(scrape: int) -> int:
        return scrape if slots is None else slots[scrape]

    parts: list[str] = []
    flat: list[tuple[int, float | str]] = []  # (input step, value) not yet written
    position = 0  # the first input step not yet written
    scrape = 0

    def flush() -> None:
        nonlocal position
        position = _encode_flat(flat, position, parts)
        flat.clear()

    for entry in values:
        if isinstance(entry, Run):
            if entry.count <= 0:
                continue
            first_slot, last_slot = slot_of(scrape), slot_of(scrape + entry.count - 1)
            consecutive = last_slot - first_slot == entry.count - 1
            if consecutive and (entry.step == 0 or (_integral(entry.first) and _integral(entry.step))):
                flush()
                if first_slot > position:
                    parts.append(_gap_token(first_slot - position))
                parts.append(_run_token(entry.first, entry.step, entry.count - 1))
                position = last_slot + 1
            else:
                for index in range(entry.count):
                    slot = slot_of(scrape + index)
                    flat.append((slot, entry.first + (slot - first_slot) * entry.step))
            scrape += entry.count
        elif isinstance(entry, Gap):
            scrape += entry.count
        else:
            if entry is not None:
                flat.append((slot_of(scrape), entry))
            scrape += 1
    flush()
    return " ".join(parts)


def encode_placed(values: Sequence[str | None], slots: Sequence[int]) -> str:
    """promtool's notation for ``values[k]`` at input step ``slots[k]`` (increasing), every other step a gap."""
    return encode_values(values, slots)


def _gap_token(count: int) -> str:
    return "_" if count == 1 else f"_x{count}"


def _run_token(first: float, step: float, increments: int) -> str:
    if increments == 0:
        return _format_value(first)
    if step == 0:
        return f"{_format_value(first)}x{increments}"
    sign = "+" if step > 0 else "-"
    return f"{_format_value(first)}{sign}{_format_value(abs(step))}x{increments}"


def _token(value: float | str) -> str:
    return value if isinstance(value, str) else _format_value(value)


def _encode_flat(samples: Sequence[tuple[int, float | str]], position: int, parts: list[str]) -> int:
    """Append the tokens of ``samples`` (input step, value) written from input step ``position``; the next one.

    Works in samples rather than steps, so a sample every 30 steps costs one value and one gap, not 30 tokens."""
    index = 0
    while index < len(samples):
        slot, value = samples[index]
        if slot > position:
            parts.append(_gap_token(slot - position))
        run = 1
        while (
            index + run < len(samples)
            and samples[index + run][0] == slot + run
            and samples[index + run][1] == value
            and value != STALE
        ):
            run += 1
        if run == 1 and isinstance(value, float) and _integral(value):
            # A whole-number arithmetic run on consecutive steps (a counter stepped sample by sample): one token.
            length = _arithmetic_run(samples, index)
            if length >= 3:
                step = float(samples[index + 1][1]) - value
                parts.append(_run_token(value, step, length - 1))
                index += length
                position = slot + length
                continue
        token = _token(value)
        parts.append(token if run == 1 else f"{token}x{run - 1}")
        index += run
        position = slot + run
    return position


def _arithmetic_run(samples: Sequence[tuple[int, float | str]], start: int) -> int:
    """How many whole-number values from ``start``, on consecutive input steps, step by one whole-number increment."""
    slot, first = samples[start]
    if not isinstance(first, float) or start + 1 >= len(samples):
        return 1
    next_slot, second = samples[start + 1]
    if next_slot != slot + 1 or not isinstance(second, float) or not _integral(second):
        return 1
    step = second - first
    length = 2
    while start + length < len(samples):
        at, value = samples[start + length]
        if at != slot + length or not isinstance(value, float) or value != first + length * step:
            break
        length += 1
    return length


def series_text(key: SeriesKey) -> str:
    """``name{a="b",...}`` with Go-style escaping, as promtool parses it."""
    labels = dict(key)
    name = labels.pop("__name__")
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def wanted_names(selectors: Sequence[Selector]) -> set[str] | None:
    """The metric names the selectors can match (None when one selects by a name regex)."""
    return None if any(s.name is None for s in selectors) else {s.name for s in selectors if s.name}


#: A stretch shorter than this is sampled step by step: probing it would cost as much.
MIN_STRETCH = 6


class _Column:
    """One series' samples as entries (see :func:`encode_values`), and how many scrapes they cover."""

    __slots__ = ("entries", "length")

    def __init__(self, start: int) -> None:
        self.entries: list[Entry] = [Gap(start)] if start else []
        self.length = start

    def catch_up(self, scrape: int) -> None:
        """The series vanished and came back at ``scrape``: a staleness marker, then gaps."""
        if self.length < scrape:
            self.entries.append(STALE)
            self.length += 1
        if self.length < scrape:
            self.entries.append(Gap(scrape - self.length))
            self.length = scrape


class _Recording:
    """The columns of the series the selectors keep, filled scrape by scrape or a steady stretch at a time."""

    def __init__(self, selectors: Sequence[Selector]) -> None:
        self.selectors = selectors
        self.columns: dict[SeriesKey, _Column] = {}
        self._relevant: dict[SeriesKey, bool] = {}

    def keep(self, samples: dict[SeriesKey, float]) -> dict[SeriesKey, float]:
        kept = {}
        for key, value in samples.items():
            relevant = self._relevant.get(key)
            if relevant is None:
                labels = dict(key)
                relevant = self._relevant[key] = any(selector.matches(labels) for selector in self.selectors)
            if relevant:
                kept[key] = value
        return kept

    def add(self, scrape: int, samples: dict[SeriesKey, float]) -> None:
        for key, value in samples.items():
            column = self._column(key, scrape)
            column.entries.append(value)
            column.length += 1

    def add_stretch(
        self, scrape: int, count: int, first: dict[SeriesKey, float], slope: dict[SeriesKey, float]
    ) -> None:
        """``count`` scrapes from ``scrape`` on which every kept series moves by its ``slope`` per input step."""
        for key, value in first.items():
            column = self._column(key, scrape)
            column.entries.append(Run(value, slope[key], count))
            column.length += count

    def _column(self, key: SeriesKey, scrape: int) -> _Column:
        column = self.columns.get(key)
        if column is None:
            column = self.columns[key] = _Column(scrape)
        else:
            column.catch_up(scrape)
        return column

    def encoded(self, scrapes: int, slots: Sequence[int]) -> dict[SeriesKey, str]:
        out: dict[SeriesKey, str] = {}
        for key, column in self.columns.items():
            if column.length < scrapes:
                column.entries.append(STALE)
            out[key] = encode_values(column.entries, slots)
        return out


def record_case(
    env: Environment, case: Case, clock: ScrapeClock, selectors: Sequence[Selector], *, skip_steady: bool = True
) -> dict[SeriesKey, str]:
    """Scrape the cluster through ``case`` as ``clock`` says; each kept series as promtool value notation.

    The fault and its revert happen at their own times, between scrapes. Cost follows what changes, not how long
    the case is: between the cluster's scheduled state changes and the fault's own moments, a stretch whose series
    all move linearly in time (checked on a throwaway copy of the cluster at its start, next scrape, middle and end,
    at the scrapes' real, jittered times) is taken whole, so a 30-day healthy warm-up costs a few samples. A
    stretch that fails the check (a counter of whole events at a fractional rate per input step) is sampled scrape
    by scrape. ``skip_steady=False`` samples every scrape (the reference the shortcut is tested against).
    """
    from conformance.sim import SimulatedCluster

    # Restricting the cluster to the selected metric names is the same result, much cheaper per step.
    names = wanted_names(selectors)
    cluster = SimulatedCluster(env, sampled_names=names)
    scrapes = clock.scrapes_until(case.horizon_s)
    slots = [clock.slot(scrape) for scrape in range(scrapes)]
    fault_scrape = clock.scrapes_before(case.fault_at_s)
    revert_scrape = clock.scrapes_before(case.revert_at_s)
    recording = _Recording(selectors)
    handle = None
    reverted = False
    failures = 0  # consecutive failed stretch checks: back off, a fractional counter fails every one
    retry_at = 0
    scrape = 0
    while scrape < scrapes:
        now = clock.at(scrape)
        if handle is None and scrape >= fault_scrape:
            cluster.advance_to(max(case.fault_at_s, cluster.now))
            handle = cluster.apply_fault(case.scenario, case.level, **case.fault_timing)
        if handle is not None and not reverted and scrape >= revert_scrape:
            cluster.advance_to(max(case.revert_at_s, cluster.now))
            cluster.revert_fault(handle)
            reverted = True
        cluster.advance_to(now)
        samples = recording.keep(cluster.stored_samples(names))
        recording.add(scrape, samples)
        scrape += 1
        if not skip_steady or scrape < retry_at:
            continue
        end = _stretch_end(cluster, scrape, scrapes, (fault_scrape, revert_scrape), clock)
        if end - scrape + 1 < MIN_STRETCH:
            continue
        slope = _steady_slope(cluster, samples, scrape - 1, end, slots, clock, names, recording)
        if slope is None:
            failures += 1
            retry_at = scrape + 2**failures
            continue
        failures = 0
        count = end - scrape + 1
        distance = slots[scrape] - slots[scrape - 1]
        recording.add_stretch(scrape, count, {k: v + slope[k] * distance for k, v in samples.items()}, slope)
        cluster.advance_to(clock.at(end))
        scrape = end + 1
    return recording.encoded(scrapes, slots)


def _stretch_end(
    cluster: SimulatedCluster, scrape: int, scrapes: int, moments: tuple[int, ...], clock: ScrapeClock
) -> int:
    """The last scrape of a stretch starting at ``scrape`` that crosses no fault moment and no scheduled change."""
    end = scrapes - 1
    for moment in moments:
        if moment >= scrape:
            end = min(end, moment - 1)
    event = cluster.next_event_at()
    if event is not None:
        end = min(end, clock.scrapes_before(event) - 1)
    return end


def _steady_slope(
    cluster: SimulatedCluster,
    at_start: dict[SeriesKey, float],
    start: int,
    end: int,
    slots: Sequence[int],
    clock: ScrapeClock,
    names: Collection[str] | None,
    recording: _Recording,
) -> dict[SeriesKey, float] | None:
    """Each kept series' change per input step if all of them move linearly in time from scrape ``start`` to
    ``end`` (checked on a copy at the next scrape, the middle and the end), else None. The copy never crosses a
    scheduled change, so the cluster's pending actions are never run on it."""
    probe = copy.deepcopy(cluster)
    middle = (start + 1 + end) // 2
    seen: dict[int, dict[SeriesKey, float]] = {}
    for scrape in sorted({start + 1, middle, end}):
        probe.advance_to(clock.at(scrape))
        seen[scrape] = recording.keep(probe.stored_samples(names))
        if seen[scrape].keys() != at_start.keys():
            return None
    span = slots[end] - slots[start]
    slope: dict[SeriesKey, float] = {}
    for key, first in at_start.items():
        step_size = (seen[end][key] - first) / span
        for scrape, values in seen.items():
            expected = first + step_size * (slots[scrape] - slots[start])
            actual = values[key]
            if not math.isfinite(actual) or abs(actual - expected) > 1e-9 * max(1.0, abs(actual)):
                return None
        whole = _integral(first) and all(_integral(values[key]) for values in seen.values())
        if whole and not _integral(step_size):
            return None  # whole events at a fractional rate per input step: the true series steps unevenly
        slope[key] = step_size
    return slope
