"""The dependency closure of a documented alert: parsed dependencies, chained look-backs, cycles, and the budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.errors import BudgetError
from conformance.packs.model import Pack, Rule, RuleGroup
from conformance.static.closure import Lookback, RuleGraph, describe_cycle, format_span
from conformance.static.cost import AlertCost, Budget, Estimate, check_budget


def _pack(*rules: Rule) -> Pack:
    return Pack(root=Path("."), groups=(RuleGroup("g", rules, "rules.yaml"),), setups=(), files=())


def _record(name: str, expr: str, line: int) -> Rule:
    return Rule(expr=expr, group="g", source="rules.yaml", line=line, record=name)


def _alert(name: str, expr: str, line: int, **labels: str) -> Rule:
    return Rule(expr=expr, group="g", source="rules.yaml", line=line, alert=name, labels=labels)


def test_dependencies_come_from_parsed_names_not_substrings() -> None:
    short = _record("job:up", "sum by (job) (up)", 1)
    longer = _record("job:up:ratio", "avg by (job) (up)", 2)
    alert = _alert("Down", "job:up:ratio < 1", 3)
    graph = RuleGraph(_pack(short, longer, alert))
    assert graph.closure([alert]) == [alert, longer]


def test_look_backs_add_up_along_the_recording_chain() -> None:
    hourly = _record("x:increase1h", "increase(x_total[1h])", 1)
    monthly = _record("x:increase30d", "avg_over_time(x:increase1h[30d]) * 24 * 30", 2)
    alert = _alert("Budget", "x:increase30d > 5", 3)
    found = RuleGraph(_pack(hourly, monthly, alert)).lookback(alert)
    assert found.seconds == 30 * 86_400 + 3600
    assert found.describe() == (
        "reads 30d1h back via Budget -> x:increase30d -> x:increase1h: x:increase30d (rules.yaml:2) reads [30d]"
    )


def test_alerts_selectors_depend_only_on_the_rules_they_can_select() -> None:
    info = _alert("Info", "vector(1)", 1, severity="info")
    critical = _alert("Crit", "vector(1)", 2, severity="critical")
    inhibitor = _alert("InfoInhibitor", 'ALERTS{severity="info"} == 1', 3, severity="none")
    graph = RuleGraph(_pack(info, critical, inhibitor))
    assert graph.closure([inhibitor]) == [inhibitor, info]


def test_a_cycle_is_found_and_named_with_its_places() -> None:
    a = _record("a", "b + 1", 1)
    b = _record("b", "a + 1", 2)
    alert = _alert("A", "a > 1", 3)
    graph = RuleGraph(_pack(a, b, alert))
    cycle = graph.cycle([alert])
    assert cycle is not None
    assert describe_cycle(cycle) == (
        "recording rules a (rules.yaml:1) -> b (rules.yaml:2) -> a form a cycle: each reads its own output"
    )
    assert graph.lookback(alert).seconds == 0  # the cycle is cut, not followed forever


def test_format_span_has_days_and_no_false_precision() -> None:
    assert [format_span(s) for s in (90, 6 * 3600 + 301, 365 * 86_400, 30 * 86_400 + 3600)] == [
        "1m30s",
        "6h5m",
        "365d",
        "30d1h",
    ]


def test_over_the_budget_is_one_line_naming_alert_rule_window_and_options() -> None:
    rule = _alert("Slow", "max_over_time(up[365d]) == 0", 7)
    cost = AlertCost(
        "Slow[warning]", "Slow", 3600.0, 3 * 2**30, 730 * 86_400, Lookback(365 * 86_400, ((rule, 365 * 86_400),)), 1
    )
    with pytest.raises(BudgetError) as caught:
        check_budget(Estimate(3600.0, 3 * 2**30, (cost,)), Budget(2 * 2**30, 600))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("depth 3 would need about 3.0 GiB of memory (budget 2.0 GiB) and 1h (budget 10m)")
    assert "mostly for Slow: it reads 365d back: Slow (rules.yaml:7) reads [365d]" in message
    assert message.endswith(
        "raise the budget with --budget-memory/--budget-time, or leave the alert out of the profile"
    )
    check_budget(Estimate(60.0, 2**30, (cost,)), Budget(2 * 2**30, 600))  # within: nothing raised
