"""Depth 1 analysis: threshold literals, kept labels, annotations, severity, presence."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.model.contract import AlertContract, DocumentedDuration, Source, Threshold
from conformance.model.scenario import Scenario, Target
from conformance.packs.model import Pack, Rule, RuleGroup
from conformance.static.contract import check_contract, comparisons, kept_labels, threshold_finding

MEMORY = Threshold("container_memory_limit_ratio", ">", 0.9, True)


@pytest.mark.parametrize(
    ("expr", "problem", "note"),
    [
        ("a / b > 0.9", None, None),
        ("a / b * 100 > 90", None, None),
        ("0.9 < a / b", None, None),
        ("a / b > 0.85", "threshold > 0.85 is looser than the documented > 0.9", None),
        ("a / b > 0.95", None, "threshold > 0.95 is tighter than the documented > 0.9"),
        (
            "rate(x[5m]) > 12",
            None,
            "no literal comparable to container_memory_limit_ratio > 0.9 in the expression; depth 3 decides",
        ),
    ],
)
def test_threshold_literals_against_the_document(expr: str, problem: str | None, note: str | None) -> None:
    assert threshold_finding(MEMORY, expr) == (problem, note)


def test_lower_bound_thresholds_are_looser_when_higher() -> None:
    free = Threshold("volume_available_ratio", "<", 0.1, True)
    assert threshold_finding(free, "avail / cap < 0.2")[0] == "threshold < 0.2 is looser than the documented < 0.1"
    assert threshold_finding(free, "avail / cap < 0.1") == (None, None)


def test_comparisons_are_normalised_with_the_number_on_the_right() -> None:
    assert comparisons("5 < x and y >= 2") == [(">", 5.0), (">=", 2.0)]


@pytest.mark.parametrize(
    ("expr", "kept"),
    [
        ("sum by (namespace, pod) (x)", {"namespace", "pod"}),
        ("count(x) > 0", set()),
        ("sum(rate(x[5m])) > 1e9", set()),
        ("rate(x[5m]) > 0.2", None),
        ("max by (node) (x) == 1 or max by (node) (y) == 1", {"node"}),
        ("x / on (a) group_left y", None),
    ],
)
def test_kept_labels(expr: str, kept: set[str] | None) -> None:
    assert kept_labels(expr) == kept


def _contract(**overrides: object) -> AlertContract:
    values: dict[str, object] = {
        "name": "HighMem",
        "severity": "critical",
        "meaning": "m",
        "source": Source("s", "sec", "q"),
        "threshold": MEMORY,
        "for_": DocumentedDuration(300, True),
        "window": None,
        "receivers": {},
        "scenarios": (Scenario("s", "memory-near-limit", Target(namespace="n", workload="w", container="c")),),
    }
    values.update(overrides)
    return AlertContract(**values)  # type: ignore[arg-type]


def _pack(*rules: Rule) -> Pack:
    return Pack(root=Path("."), groups=(RuleGroup("g", tuple(rules), "rules.yaml"),), setups=(), files=())


def _rule(**overrides: object) -> Rule:
    values: dict[str, object] = {
        "expr": "max by (pod) (a / b) > 0.9",
        "group": "g",
        "source": "rules.yaml",
        "line": 4,
        "alert": "HighMem",
        "for_s": 300.0,
        "labels": {"severity": "critical"},
        "annotations": {"summary": "pod {{ $labels.pod }} near its memory limit"},
    }
    values.update(overrides)
    return Rule(**values)  # type: ignore[arg-type]


def test_a_conforming_rule_passes() -> None:
    assert check_contract(_contract(), _pack(_rule())).problems == []


def test_missing_alert() -> None:
    result = check_contract(_contract(), _pack(_rule(alert="Other")))
    assert result.problems == ["missing: the pack has no alerting rule named HighMem"]


def test_wrong_severity() -> None:
    result = check_contract(_contract(), _pack(_rule(labels={"severity": "warning"})))
    assert result.problems == ["severity is warning, documented critical"]


def test_longer_for_fails() -> None:
    result = check_contract(_contract(), _pack(_rule(for_s=900.0)))
    assert result.problems == ["`for` 15m is longer than the documented 5m (rules.yaml:4)"]


@pytest.mark.parametrize(("for_s", "shown"), [(150.0, "2m30s"), (0.0, "0s")])
def test_shorter_for_fails_where_the_document_states_it(for_s: float, shown: str) -> None:
    result = check_contract(_contract(), _pack(_rule(for_s=for_s)))
    assert result.problems == [f"`for` {shown} is shorter than the documented 5m (rules.yaml:4)"]
    undocumented = _contract(for_=DocumentedDuration(300, False))
    assert check_contract(undocumented, _pack(_rule(for_s=for_s))).problems == []


def test_a_hold_written_in_the_expression_is_left_to_behaviour() -> None:
    rule = _rule(expr="min_over_time((a / b)[5m:30s]) > 0.9", for_s=0.0)
    result = check_contract(_contract(), _pack(rule))
    assert result.problems == []
    assert any("hold written in the expression" in note for note in result.notes)
    short = _rule(expr="min_over_time((a / b)[2m:30s]) > 0.9", for_s=60.0)
    assert check_contract(_contract(), _pack(short)).problems == [
        "`for` 1m is shorter than the documented 5m (rules.yaml:4)"
    ]


def test_an_age_written_in_the_expression_is_a_hold() -> None:
    """KubeJobNotCompleted has no ``for``: it compares the Job's age, ``time() - start > 43200``; the scalar
    time() keeps the vector side's labels for the annotations ($labels.pod of the default summary)."""
    aged = "time() - max by (namespace, pod) (start and active > 0) > 300"
    assert check_contract(_contract(), _pack(_rule(expr=aged, for_s=0.0))).problems == []
    young = _rule(expr="time() - max by (namespace, pod) (start and active > 0) > 120", for_s=0.0)
    assert check_contract(_contract(), _pack(young)).problems == [
        "`for` 0s is shorter than the documented 5m (rules.yaml:4)"
    ]
    # A difference with time() compared the other way bounds nothing.
    assert check_contract(_contract(), _pack(_rule(expr="time() - start < 300", for_s=0.0))).problems != []


def test_annotation_label_dropped_by_aggregation() -> None:
    rule = _rule(annotations={"summary": "{{ $labels.namespace }}/{{ $labels.pod }} near its limit"})
    (problem,) = check_contract(_contract(), _pack(rule)).problems
    assert problem.startswith("annotation summary uses $labels.namespace, which the expression drops")


def test_placeholder_summary_is_not_actionable() -> None:
    rule = _rule(annotations={"summary": "<ALERT-SUMMARY-TEXT>"})
    (problem,) = check_contract(_contract(), _pack(rule)).problems
    assert problem.startswith("no summary or description a person can act on")


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("changes(x[10m]) > 2", None),
        ("changes(x[10m]) >= 3", None),
        ("changes(x[10m]) >= 2", "threshold >= 2 is looser than the documented > 2"),
        ("changes(x[10m]) > 1", "threshold > 1 is looser than the documented > 2"),
        ("changes(x[10m]) > 3", None),
    ],
)
def test_integer_thresholds_compare_in_inclusive_form(expr: str, problem: str | None) -> None:
    restarts = Threshold("restarts", ">", 2, True, integer=True)
    assert threshold_finding(restarts, expr)[0] == problem


def test_one_to_one_matching_keeps_only_the_matched_labels() -> None:
    assert kept_labels("sum by (namespace, pod, node) (a) / on (pod) sum by (pod) (b) > 0.5") == {"pod"}
    assert kept_labels("sum by (namespace, pod) (a) / ignoring (namespace) sum by (pod) (b)") == {"pod"}
    assert kept_labels("sum by (namespace, pod) (a) and on (pod) b") == {"namespace", "pod"}


def test_a_window_other_than_documented_fails() -> None:
    rule = _rule(expr="sum(rate(errors[1m])) / sum(rate(requests[1m])) > 0.05", annotations={"summary": "s"})
    contract = _contract(threshold=Threshold("error_ratio", ">", 0.05, True), window=DocumentedDuration(300, True))
    (problem,) = check_contract(contract, _pack(rule)).problems
    assert problem == "measures over 1m, the document says 5m (rules.yaml:4)"
    undocumented = _contract(threshold=Threshold("error_ratio", ">", 0.05, True), window=DocumentedDuration(300, False))
    assert check_contract(undocumented, _pack(rule)).problems == []
