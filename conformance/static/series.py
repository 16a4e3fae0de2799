"""Turn a case into the series promtool reads: the simulated cluster scraped as :mod:`.clock` says.

Only series some rule can select are kept (metric names and matchers read from the rules through
promql-parser), which keeps test files small without losing anything a rule could see.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import promql_parser

from conformance.model.workloads import Environment
from conformance.static.cases import Case
from conformance.static.clock import ScrapeClock

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


def encode_values(values: Sequence[str | None]) -> str:
    """promtool's value notation: runs of one value as ``vxN`` (N+1 samples), gaps as ``_xN`` (N gaps)."""
    return encode_placed(values, range(len(values)))


def encode_placed(values: Sequence[str | None], slots: Sequence[int]) -> str:
    """promtool's notation for ``values[k]`` at input step ``slots[k]`` (increasing), every other step a gap.

    Works in runs rather than steps, so a sample every 30 steps costs one entry per sample, not 30.
    """
    kinds: list[str | None] = []  # the value of each run, None for gaps
    counts: list[int] = []

    def push(value: str | None, count: int) -> None:
        if count <= 0:
            return
        if kinds and kinds[-1] == value and value != STALE:
            counts[-1] += count
        else:
            kinds.append(value)
            counts.append(count)

    position = 0
    for value, slot in zip(values, slots, strict=True):
        push(None, slot - position)
        push(value, 1)
        position = slot + 1
    parts: list[str] = []
    for value, count in zip(kinds, counts, strict=True):
        if value is None:
            parts.append("_" if count == 1 else f"_x{count}")
        else:
            parts.append(value if count == 1 else f"{value}x{count - 1}")
    return " ".join(parts)


def series_text(key: SeriesKey) -> str:
    """``name{a="b",...}`` with Go-style escaping, as promtool parses it."""
    labels = dict(key)
    name = labels.pop("__name__")
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(frozen=True)
class WarmUp:
    """The healthy cluster's stored samples at each scrape step before the faults, shared by every case.

    Sampling never changes the cluster, so a case can advance through these steps without sampling and take
    its columns from here: the same series as sampling them itself, at a fraction of the cost.
    """

    steps: tuple[dict[SeriesKey, float], ...]


def wanted_names(selectors: Sequence[Selector]) -> set[str] | None:
    """The metric names the selectors can match (None when one selects by a name regex)."""
    return None if any(s.name is None for s in selectors) else {s.name for s in selectors if s.name}


def warm_up(env: Environment, fault_at_s: float, clock: ScrapeClock, selectors: Sequence[Selector]) -> WarmUp:
    """Sample the healthy cluster at every scrape before ``fault_at_s``."""
    from conformance.sim import SimulatedCluster

    names = wanted_names(selectors)
    cluster = SimulatedCluster(env, sampled_names=names)
    steps = []
    for scrape in range(clock.scrapes_before(fault_at_s)):
        cluster.advance_to(clock.at(scrape))
        steps.append(cluster.stored_samples(names))
    return WarmUp(tuple(steps))


def record_case(
    env: Environment, case: Case, clock: ScrapeClock, selectors: Sequence[Selector], warm: WarmUp | None = None
) -> dict[SeriesKey, str]:
    """Scrape the cluster through ``case`` as ``clock`` says; each kept series as promtool value notation.

    The fault and its revert happen at their own times, between scrapes. ``warm`` must come from
    :func:`warm_up` with the same environment, fault time and clock, and selectors covering these.
    """
    from conformance.sim import SimulatedCluster

    # Restricting the cluster to the selected metric names is the same result, much cheaper per step.
    names = wanted_names(selectors)
    cluster = SimulatedCluster(env, sampled_names=names)
    scrapes = clock.scrapes_until(case.horizon_s)
    columns: dict[SeriesKey, list[str | None]] = {}
    handle = None
    reverted = False
    relevant: dict[SeriesKey, bool] = {}
    warm_steps = len(warm.steps) if warm is not None else 0
    for scrape in range(scrapes):
        now = clock.at(scrape)
        if handle is None and now >= case.fault_at_s - 1e-9:
            cluster.advance_to(max(case.fault_at_s, cluster.now))
            handle = cluster.apply_fault(case.scenario, case.level, **case.fault_timing)
        if handle is not None and not reverted and now >= case.revert_at_s - 1e-9:
            cluster.advance_to(case.revert_at_s)
            cluster.revert_fault(handle)
            reverted = True
        # Counters integrate exactly over any interval, so the unsampled warm-up is crossed in one jump.
        if scrape >= warm_steps - 1:
            cluster.advance_to(now)
        samples = warm.steps[scrape] if scrape < warm_steps and warm is not None else cluster.stored_samples(names)
        for key, value in samples.items():
            keep = relevant.get(key)
            if keep is None:
                labels = dict(key)
                keep = relevant[key] = any(selector.matches(labels) for selector in selectors)
            if not keep:
                continue
            column = columns.get(key)
            if column is None:
                column = columns[key] = [None] * scrape
            elif len(column) < scrape:
                # The series vanished and came back: a staleness marker, then gaps.
                column.append(STALE)
                column.extend([None] * (scrape - len(column)))
            column.append(_format_value(value))
    slots = [clock.slot(scrape) for scrape in range(scrapes)]
    out: dict[SeriesKey, str] = {}
    for key, column in columns.items():
        if len(column) < scrapes:
            column.append(STALE)
        out[key] = encode_placed(column, slots[: len(column)])
    return out
