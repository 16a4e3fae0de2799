"""Turn a case into the series promtool reads: the simulated cluster sampled on the scrape grid.

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
    """``count`` samples of a steady stretch: ``first``, ``first + step``, ... (a counter at a constant rate, a
    gauge that holds or ramps linearly)."""

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


def encode_values(values: Sequence[Entry]) -> str:
    """promtool's value notation: runs of one value as ``vxN`` (N+1 samples), whole-number steady stretches as
    ``a+bxN``, gaps as ``_xN`` (N gaps).

    A steady stretch of a whole-number series is one token however long: a 30-day window of a counter at a
    constant rate is ``a+bx86399``, not 86,400 numbers. Stretches of fractional values are written sample by sample:
    promtool sums ``a+bxN`` step by step in float64, and a sum that ends a hair above the next sample would be a
    counter reset to ``rate()``.
    """
    parts: list[str] = []
    flat: list[float | str | None] = []

    def flush() -> None:
        parts.extend(_encode_flat(flat))
        flat.clear()

    for entry in values:
        if isinstance(entry, Run):
            if entry.count <= 0:
                continue
            if entry.step == 0 or (_integral(entry.first) and _integral(entry.step)):
                flush()
                parts.append(_run_token(entry.first, entry.step, entry.count - 1))
            else:
                flat.extend(entry.first + index * entry.step for index in range(entry.count))
        elif isinstance(entry, Gap):
            flat.extend([None] * entry.count)
        else:
            flat.append(entry)
    flush()
    return " ".join(parts)


def _run_token(first: float, step: float, increments: int) -> str:
    if increments == 0:
        return _format_value(first)
    if step == 0:
        return f"{_format_value(first)}x{increments}"
    sign = "+" if step > 0 else "-"
    return f"{_format_value(first)}{sign}{_format_value(abs(step))}x{increments}"


def _encode_flat(values: Sequence[float | str | None]) -> list[str]:
    parts: list[str] = []
    index = 0
    while index < len(values):
        value = values[index]
        run = 1
        while index + run < len(values) and values[index + run] == value and value != STALE:
            run += 1
        if value is None:
            parts.append("_" if run == 1 else f"_x{run}")
        elif isinstance(value, float) and run == 1 and _integral(value):
            # A whole-number arithmetic run (a counter stepped sample by sample): one token.
            length = _arithmetic_run(values, index)
            if length >= 3:
                parts.append(_run_token(value, float(values[index + 1]) - value, length - 1))  # type: ignore[arg-type]
                index += length
                continue
            parts.append(_format_value(value))
        else:
            token = value if isinstance(value, str) else _format_value(value)
            parts.append(token if run == 1 else f"{token}x{run - 1}")
        index += run
    return parts


def _arithmetic_run(values: Sequence[float | str | None], start: int) -> int:
    """How many whole-number values from ``start`` step by one constant whole-number increment."""
    first = values[start]
    if not isinstance(first, float) or start + 1 >= len(values):
        return 1
    second = values[start + 1]
    if not isinstance(second, float) or not _integral(second):
        return 1
    step = second - first
    length = 2
    while start + length < len(values):
        value = values[start + length]
        if not isinstance(value, float) or value != first + length * step:
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
    """One series' samples as entries (see :func:`encode_values`), and how many scrape steps they cover."""

    __slots__ = ("entries", "length")

    def __init__(self, start: int) -> None:
        self.entries: list[Entry] = [Gap(start)] if start else []
        self.length = start

    def catch_up(self, step: int) -> None:
        """The series vanished and came back at ``step``: a staleness marker, then gaps."""
        if self.length < step:
            self.entries.append(STALE)
            self.length += 1
        if self.length < step:
            self.entries.append(Gap(step - self.length))
            self.length = step


class _Recording:
    """The columns of the series the selectors keep, filled sample by sample or a steady stretch at a time."""

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

    def add(self, step: int, samples: dict[SeriesKey, float]) -> None:
        for key, value in samples.items():
            column = self._column(key, step)
            column.entries.append(value)
            column.length += 1

    def add_stretch(self, step: int, count: int, first: dict[SeriesKey, float], slope: dict[SeriesKey, float]) -> None:
        """``count`` steps from ``step`` on which every kept series moves by its ``slope`` per step."""
        for key, value in first.items():
            column = self._column(key, step)
            column.entries.append(Run(value, slope[key], count))
            column.length += count

    def _column(self, key: SeriesKey, step: int) -> _Column:
        column = self.columns.get(key)
        if column is None:
            column = self.columns[key] = _Column(step)
        else:
            column.catch_up(step)
        return column

    def encoded(self, steps: int) -> dict[SeriesKey, str]:
        out: dict[SeriesKey, str] = {}
        for key, column in self.columns.items():
            if column.length < steps:
                column.entries.append(STALE)
            out[key] = encode_values(column.entries)
        return out


def record_case(
    env: Environment, case: Case, scrape_s: float, selectors: Sequence[Selector], *, skip_steady: bool = True
) -> dict[SeriesKey, str]:
    """Sample the cluster through ``case`` on the scrape grid; each kept series as promtool value notation.

    Cost follows what changes, not how long the case is: between the cluster's scheduled state changes and the
    fault's own moments, a stretch whose series all move linearly (checked on a throwaway copy of the cluster at
    its start, step one, middle and end) is taken whole, so a 30-day healthy warm-up costs a few samples. A stretch
    that fails the check (a counter of whole events at a fractional rate per scrape) is sampled step by step.
    ``skip_steady=False`` samples every step (the reference the shortcut is tested against).
    """
    from conformance.sim import SimulatedCluster

    # Restricting the cluster to the selected metric names is the same result, much cheaper per step.
    names = wanted_names(selectors)
    cluster = SimulatedCluster(env, sampled_names=names)
    steps = int(case.horizon_s // scrape_s) + 1
    fault_step = _first_step_at(case.fault_at_s, scrape_s)
    revert_step = _first_step_at(case.revert_at_s, scrape_s)
    recording = _Recording(selectors)
    handle = None
    reverted = False
    failures = 0  # consecutive failed stretch checks: back off, a fractional counter fails every one
    retry_at = 0
    step = 0
    while step < steps:
        now = step * scrape_s
        cluster.advance_to(now)
        if handle is None and step >= fault_step:
            handle = cluster.apply_fault(case.scenario, case.level, **case.fault_timing)
        if handle is not None and not reverted and step >= revert_step:
            cluster.revert_fault(handle)
            reverted = True
        samples = recording.keep(cluster.stored_samples(names))
        recording.add(step, samples)
        step += 1
        if not skip_steady or step < retry_at:
            continue
        end = _stretch_end(cluster, step, steps, (fault_step, revert_step), scrape_s)
        if end - step + 1 < MIN_STRETCH:
            continue
        slope = _steady_slope(cluster, samples, step - 1, end, scrape_s, names, recording)
        if slope is None:
            failures += 1
            retry_at = step + 2**failures
            continue
        failures = 0
        count = end - step + 1
        recording.add_stretch(step, count, {k: v + slope[k] for k, v in samples.items()}, slope)
        cluster.advance_to(end * scrape_s)
        step = end + 1
    return recording.encoded(steps)


def _first_step_at(t: float, scrape_s: float) -> int:
    return math.ceil(t / scrape_s - 1e-9)


def _stretch_end(cluster: SimulatedCluster, step: int, steps: int, moments: tuple[int, ...], scrape_s: float) -> int:
    """The last step of a stretch starting at ``step`` that crosses no fault moment and no scheduled change."""
    end = steps - 1
    for moment in moments:
        if moment >= step:
            end = min(end, moment - 1)
    event = cluster.next_event_at()
    if event is not None:
        end = min(end, math.ceil(event / scrape_s - 1e-9) - 1)
    return end


def _steady_slope(
    cluster: SimulatedCluster,
    at_start: dict[SeriesKey, float],
    start: int,
    end: int,
    scrape_s: float,
    names: Collection[str] | None,
    recording: _Recording,
) -> dict[SeriesKey, float] | None:
    """Each kept series' change per step if all of them move linearly from ``start`` to ``end`` (checked on a
    copy at the next step, the middle and the end), else None. The copy never crosses a scheduled change, so
    the cluster's pending actions are never run on it."""
    probe = copy.deepcopy(cluster)
    middle = (start + 1 + end) // 2
    seen: dict[int, dict[SeriesKey, float]] = {}
    for step in sorted({start + 1, middle, end}):
        probe.advance_to(step * scrape_s)
        seen[step] = recording.keep(probe.stored_samples(names))
        if seen[step].keys() != at_start.keys():
            return None
    slope: dict[SeriesKey, float] = {}
    for key, first in at_start.items():
        step_size = (seen[end][key] - first) / (end - start)
        for step, values in seen.items():
            expected = first + step_size * (step - start)
            actual = values[key]
            if not math.isfinite(actual) or abs(actual - expected) > 1e-9 * max(1.0, abs(actual)):
                return None
        whole = _integral(first) and all(_integral(values[key]) for values in seen.values())
        if whole and not _integral(step_size):
            return None  # whole events at a fractional rate per scrape: the true series steps unevenly
        slope[key] = step_size
    return slope
