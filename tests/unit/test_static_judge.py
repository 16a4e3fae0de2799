"""Depth 3's verdict on one case's firing timeline: on time, not early, and firing without a break while held."""

from __future__ import annotations

import pytest

from conformance.model.contract import AlertContract, DocumentedDuration, Source
from conformance.model.durations import format_duration
from conformance.model.scenario import Scenario, Target
from conformance.static.behaviour import _judge
from conformance.static.cases import Case, Timing, build_cases
from conformance.static.promtool_runner import Timeline

EVAL = 30.0
WARMUP = 600.0


def _fire_case(for_documented: bool = True) -> Case:
    alert = AlertContract(
        name="NodeCordoned",
        severity="critical",
        meaning="m",
        source=Source("s", "s", "q"),
        threshold=None,
        for_=DocumentedDuration(120, for_documented),
        window=None,
        receivers={},
        scenarios=(Scenario("cordon", "cordon-node", Target(node="n1")),),
    )
    (case,) = build_cases(alert, Timing(EVAL, EVAL, 120, for_documented, 0), WARMUP)
    return case


def _firing(case: Case, start_s: float, stop_s: float, gaps: tuple[float, ...] = ()) -> Timeline:
    """Firing at every evaluation from ``start_s`` to ``stop_s`` after the fault, except at ``gaps``."""
    timeline = Timeline()
    at = start_s
    while at <= stop_s:
        if at not in gaps:
            timeline.add(case.fault_at_s + at, {"alertname": "NodeCordoned"})
        at += EVAL
    return timeline


def test_firing_from_for_until_the_revert_passes() -> None:
    case = _fire_case()
    verdict = _judge(case, _firing(case, 150, case.hold_s + 30), EVAL)
    assert verdict.problem is None
    assert verdict.fire_after_s == 150
    assert verdict.steady_until_s == case.hold_s


def test_a_resolve_and_refire_while_the_fault_holds_fails_naming_when() -> None:
    case = _fire_case()
    verdict = _judge(case, _firing(case, 150, case.hold_s, gaps=(240.0, 270.0)), EVAL)
    assert verdict.problem == (
        f"fired 2m30s after the fault, then resolved at +1m30s while the fault still holds "
        f"(held {format_duration(case.hold_s)}); fires again at +2m30s"
    )
    assert verdict.steady_until_s == 210


def test_stopping_for_good_before_the_revert_fails() -> None:
    case = _fire_case()
    verdict = _judge(case, _firing(case, 150, 210), EVAL)
    assert verdict.problem is not None
    assert "then resolved at +1m30s while the fault still holds" in verdict.problem


@pytest.mark.parametrize(("documented", "problem"), [(True, True), (False, False)])
def test_firing_before_the_documented_for_fails_only_where_documented(documented: bool, problem: bool) -> None:
    case = _fire_case(documented)
    verdict = _judge(case, _firing(case, 60, case.hold_s), EVAL)
    assert (verdict.problem == "fires 1m after the fault, before the documented `for` 2m") is problem


def test_the_documented_for_counts_from_the_first_evaluation_that_can_see_the_fault() -> None:
    alert = _fire_case().scenario
    contract = AlertContract(
        name="NodeCordoned",
        severity="critical",
        meaning="m",
        source=Source("s", "s", "q"),
        threshold=None,
        for_=DocumentedDuration(120, True),
        window=None,
        receivers={},
        scenarios=(alert,),
    )
    # Scrapes 11 s or more after the grid: the fault shows first at the evaluation 30 s after it.
    (case,) = build_cases(contract, Timing(EVAL, EVAL, 120, True, 0, first_scrape_s=11), WARMUP)
    assert case.visible_after_s == 30 and case.earliest_fire_s == 150
    verdict = _judge(case, _firing(case, 120, case.hold_s), EVAL)
    assert verdict.problem == (
        "fires 2m after the fault, before the documented `for` 2m "
        "from the first evaluation that can see the fault (+30s)"
    )
    assert _judge(case, _firing(case, 150, case.hold_s), EVAL).problem is None
