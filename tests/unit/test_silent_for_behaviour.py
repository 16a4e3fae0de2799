"""Depth 3's ``silent_for``: the ALERTS selection it watches, how promtool's report of it is read, and the
problem it makes of an instance pending or firing for labels the document says the fault leaves silent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from conformance.model.contract import AlertContract, DocumentedDuration, Source
from conformance.model.scenario import Scenario, Target, describe_matcher
from conformance.packs.loader import load_pack
from conformance.profiles import load_profile
from conformance.static.behaviour import plan_behaviour, silent_for_problem, silent_for_query
from conformance.static.cases import Case, Timing, build_cases
from conformance.static.cost import WATCH_STEP_S, estimate
from conformance.static.promtool_runner import Batch, CaseInput, Timeline, build_test_file, parse_output, run_cases
from conformance.testing.doubles import FakeRunner
from conformance.tools import CommandResult

TIMING = Timing(scrape_s=15, evaluation_s=15, for_s=120, for_documented=False, window_s=0)
SILENT_FOR = ({"deployment": "researcher-service"}, {"deployment": "pod-grouper", "namespace": "runai"})


def _case(silent_for: tuple[dict[str, str], ...] = SILENT_FOR) -> Case:
    scenario = Scenario("lost", "node-not-ready", Target(node="w1"), silent_for=silent_for)
    alert = AlertContract(
        name="NoReplicas",
        severity="critical",
        meaning="m",
        source=Source("seed.txt", "section", "quote"),
        threshold=None,
        for_=DocumentedDuration(120, False),
        window=None,
        receivers={},
        scenarios=(scenario,),
    )
    [case] = build_cases(alert, TIMING, warmup_s=600)
    return case


def test_a_matcher_matches_an_instance_carrying_each_of_its_labels() -> None:
    scenario = _case().scenario
    assert scenario.silenced_by({"deployment": "researcher-service", "pod": "x"}) == SILENT_FOR[0]
    assert scenario.silenced_by({"deployment": "pod-grouper"}) is None  # namespace missing
    assert scenario.silenced_by({"deployment": "pod-grouper", "namespace": "runai"}) == SILENT_FOR[1]
    assert scenario.silenced_by({"deployment": "runai-agent"}) is None
    assert describe_matcher({"a": 'say "hi"\\'}) == '{a="say \\"hi\\"\\\\"}'


def test_the_fire_case_watches_alerts_of_the_alert_with_each_matcher_and_other_cases_nothing() -> None:
    case = _case()
    assert silent_for_query("NoReplicas", case) == (
        'ALERTS{alertname="NoReplicas", deployment="researcher-service"} or '
        'ALERTS{alertname="NoReplicas", deployment="pod-grouper", namespace="runai"}'
    )
    assert silent_for_query("NoReplicas", replace(case, kind="healthy")) is None
    assert silent_for_query("NoReplicas", _case(silent_for=())) is None


def test_the_test_file_checks_the_watched_selection_at_every_step_tagged_with_the_case() -> None:
    case = CaseInput("A[critical]|s|fire", "A", {}, horizon_s=30, watched='ALERTS{alertname="A", d="x"}')
    group = yaml.safe_load(build_test_file([Path("r.yml")], [case], input_step_s=15, evaluation_s=15))["tests"][0]
    assert [check["eval_time"] for check in group["promql_expr_test"]] == ["0s", "15s", "30s"]
    assert {check["expr"] for check in group["promql_expr_test"]} == {
        'ALERTS{alertname="A", d="x"} # case A[critical]|s|fire'
    }
    assert all(check["exp_samples"] == [] for check in group["promql_expr_test"])
    unwatched = CaseInput("c", "A", {}, horizon_s=30)
    assert "promql_expr_test" not in yaml.safe_load(build_test_file([], [unwatched], 15, 15))["tests"][0]


# promtool 2.42's report of a failing promql_expr_test: it names no group, so the expression carries the case.
WATCHED_REPORT = """Unit Testing:  t.yaml
  FAILED:
    name: A[critical]|s|fire,
    alertname: A, time: 2m,
        exp:[],
        got:[
            0:
              Labels:{alertname="A", deployment="runai-agent"}
              Annotations:{}
            ]
    expr: "ALERTS{alertname=\\"A\\", deployment=\\"x\\"} # case A[critical]|s|fire", time: 1m,
        exp: nil
        got: {__name__="ALERTS", alertname="A", alertstate="pending", deployment="x", note="a}b"} 1E+00
    expr: "ALERTS{alertname=\\"A\\"} # case B[warning]|t|fire", time: 1m30s,
        exp: nil
        got: {__name__="ALERTS", alertname="A", alertstate="firing", d="1"} 1E+00, {__name__="ALERTS", alertname="A", \
alertstate="pending", d="2"} 1E+00
"""


def test_watched_samples_are_read_for_the_case_their_expression_names() -> None:
    timelines = parse_output(WATCHED_REPORT, {"A[critical]|s|fire": "A", "B[warning]|t|fire": "A"})
    first = timelines["A[critical]|s|fire"]
    assert first.firing_at == [120.0]  # the alert test's report is read as before
    assert first.watched == [
        (60.0, {"__name__": "ALERTS", "alertname": "A", "alertstate": "pending", "deployment": "x", "note": "a}b"})
    ]
    assert [(at, labels["d"], labels["alertstate"]) for at, labels in timelines["B[warning]|t|fire"].watched] == [
        (90.0, "1", "firing"),
        (90.0, "2", "pending"),
    ]


def _at(case: Case, after_s: float, state: str, **labels: str) -> tuple[float, dict[str, str]]:
    return case.fault_at_s + after_s, {"alertname": "NoReplicas", "alertstate": state, **labels}


def test_an_instance_for_a_silent_label_set_while_the_fault_holds_is_named_with_when() -> None:
    case = _case()
    timeline = Timeline(
        watched=[
            _at(case, 60, "pending", deployment="researcher-service"),
            _at(case, 180, "firing", deployment="researcher-service"),
            _at(case, 195, "firing", deployment="researcher-service"),
            _at(case, 90, "pending", deployment="pod-grouper", namespace="runai"),
        ]
    )
    assert silent_for_problem(case, timeline) == (
        'fires for {deployment="researcher-service"} 3m after the fault (pending from 1m); '
        'is pending for {deployment="pod-grouper", namespace="runai"} 1m30s after the fault '
        "although the document says it stays silent for them"
    )


def test_only_what_shows_while_the_fault_holds_counts() -> None:
    case = _case()
    timeline = Timeline(
        watched=[
            (case.fault_at_s - 15, {"alertstate": "firing", "deployment": "researcher-service"}),
            (case.revert_at_s + 15, {"alertstate": "firing", "deployment": "researcher-service"}),
            _at(case, 60, "firing", deployment="runai-agent"),  # not silent: the selection is filtered again
        ]
    )
    assert silent_for_problem(case, timeline) is None
    one = Timeline(watched=[_at(case, 30, "pending", deployment="researcher-service")])
    assert silent_for_problem(case, one) == (
        'is pending for {deployment="researcher-service"} 30s after the fault although the document says it stays '
        "silent for it"
    )


def test_a_batch_whose_only_failures_are_watched_samples_is_read_not_taken_for_rules_that_did_not_load(
    tmp_path: Path,
) -> None:
    only_watched = "Unit Testing:  t.yaml\n  FAILED:\n" + WATCHED_REPORT.split("            ]\n", 1)[1]

    def answer(argv: Sequence[str]) -> CommandResult:
        return CommandResult(tuple(argv), 1, only_watched, "")

    case = CaseInput("A[critical]|s|fire", "A", {}, 60, watched='ALERTS{alertname="A"}')
    [timeline] = run_cases(
        [Batch((Path("r.yml"),), (case,))],
        promtool=Path("promtool"),
        workdir=tmp_path,
        input_step_s=15,
        evaluation_s=15,
        runner=FakeRunner(answer),
    ).values()
    assert timeline.error is None
    assert [labels["deployment"] for _, labels in timeline.watched] == ["x"]


def test_depth_3s_estimate_counts_the_watched_expression_at_every_step() -> None:
    profile = load_profile("runai")
    alert = profile.alert("RunaiDeploymentNoAvailableReplicas")
    lost = next(scenario for scenario in alert.scenarios if scenario.silent_for)
    pack = load_pack(profile.pack_path)

    def seconds(silent_for: tuple[dict[str, str], ...]) -> float:
        only = replace(profile, alerts=(replace(alert, scenarios=(replace(lost, silent_for=silent_for),)),))
        return estimate(plan_behaviour(only, pack), only, pack).seconds

    [case] = plan_behaviour(replace(profile, alerts=(replace(alert, scenarios=(lost,)),)), pack).planned
    steps = case.case.horizon_s / profile.evaluation_interval_s + 1
    assert seconds(lost.silent_for) - seconds(()) == pytest.approx(steps * WATCH_STEP_S)
