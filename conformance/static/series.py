"""Turn a case into the series promtool reads: the simulated cluster sampled on the scrape grid.

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
    parts: list[str] = []
    index = 0
    while index < len(values):
        value = values[index]
        run = 1
        while index + run < len(values) and values[index + run] == value and value != STALE:
            run += 1
        if value is None:
            parts.append("_" if run == 1 else f"_x{run}")
        elif run == 1:
            parts.append(value)
        else:
            parts.append(f"{value}x{run - 1}")
        index += run
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


def warm_up(env: Environment, fault_at_s: float, scrape_s: float, selectors: Sequence[Selector]) -> WarmUp:
    """Sample the healthy cluster on the grid up to (not including) ``fault_at_s``."""
    from conformance.sim import SimulatedCluster

    names = wanted_names(selectors)
    cluster = SimulatedCluster(env, sampled_names=names)
    steps = []
    for step in range(_first_fault_step(fault_at_s, scrape_s)):
        cluster.advance_to(step * scrape_s)
        steps.append(cluster.stored_samples(names))
    return WarmUp(tuple(steps))


def _first_fault_step(fault_at_s: float, scrape_s: float) -> int:
    return math.ceil(fault_at_s / scrape_s - 1e-9)


def record_case(
    env: Environment, case: Case, scrape_s: float, selectors: Sequence[Selector], warm: WarmUp | None = None
) -> dict[SeriesKey, str]:
    """Sample the cluster through ``case`` on the scrape grid; each kept series as promtool value notation.

    ``warm`` must come from :func:`warm_up` with the same environment, fault time and scrape interval, and
    selectors covering these.
    """
    from conformance.sim import SimulatedCluster

    # Restricting the cluster to the selected metric names is the same result, much cheaper per step.
    names = wanted_names(selectors)
    cluster = SimulatedCluster(env, sampled_names=names)
    steps = int(case.horizon_s // scrape_s) + 1
    columns: dict[SeriesKey, list[str | None]] = {}
    handle = None
    reverted = False
    relevant: dict[SeriesKey, bool] = {}
    warm_steps = len(warm.steps) if warm is not None else 0
    for step in range(steps):
        now = step * scrape_s
        # Counters integrate exactly over any interval, so the unsampled warm-up is crossed in one jump.
        if step >= warm_steps - 1:
            cluster.advance_to(now)
        if handle is None and now >= case.fault_at_s - 1e-9:
            handle = cluster.apply_fault(case.scenario, case.level, **case.fault_timing)
        if handle is not None and not reverted and now >= case.revert_at_s - 1e-9:
            cluster.revert_fault(handle)
            reverted = True
        samples = warm.steps[step] if warm is not None and step < warm_steps else cluster.stored_samples(names)
        for key, value in samples.items():
            keep = relevant.get(key)
            if keep is None:
                labels = dict(key)
                keep = relevant[key] = any(selector.matches(labels) for selector in selectors)
            if not keep:
                continue
            column = columns.get(key)
            if column is None:
                column = columns[key] = [None] * step
            elif len(column) < step:
                # The series vanished and came back: a staleness marker, then gaps.
                column.append(STALE)
                column.extend([None] * (step - len(column)))
            column.append(_format_value(value))
    out: dict[SeriesKey, str] = {}
    for key, column in columns.items():
        if len(column) < steps:
            column.append(STALE)
        out[key] = encode_values(column)
    return out
