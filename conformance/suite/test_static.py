"""Depths 1 to 4 for every documented alert: contract, syntax, behaviour in virtual time, routing."""

from __future__ import annotations

import pytest

from conformance.model.contract import AlertContract, RoutingSetup
from conformance.session import ConformanceSession

pytestmark = pytest.mark.static


def _fail(reasons: list[str]) -> None:
    pytest.fail("; ".join(reasons), pytrace=False)


def test_contract(conformance_session: ConformanceSession, alert: AlertContract) -> None:
    """Depth 1: present, documented severity, threshold and ``for`` no looser, actionable annotations."""
    result = conformance_session.contract()[alert.key]
    if not result.ok:
        _fail(result.problems)


def test_syntax(conformance_session: ConformanceSession, alert: AlertContract) -> None:
    """Depth 2: ``promtool check rules`` accepts every rule of this alert."""
    if not conformance_session.pack.rules_named(alert.name):
        _fail([f"the pack has no alerting rule named {alert.name}"])
    report = conformance_session.syntax()
    problems = list(report.rule_errors.get(alert.name, []))
    for source in {rule.source for rule in conformance_session.pack.rules_named(alert.name)}:
        problems += report.file_errors.get(source, [])
    problems += report.file_errors.get("promtool", [])
    if problems:
        _fail(problems)


def test_alertmanager_config(conformance_session: ConformanceSession, pack_setup_form: str) -> None:
    """Depth 2: ``amtool check-config`` accepts each Alertmanager set-up of the pack."""
    report = conformance_session.syntax()
    problems = report.setup_errors.get(pack_setup_form, []) + report.setup_errors.get("amtool", [])
    if problems:
        _fail(problems)


def test_behaviour(conformance_session: ConformanceSession, alert: AlertContract) -> None:
    """Depth 3: fires past the threshold and not inside it, on time, and resolves after the revert."""
    behaviour = conformance_session.behaviour()[alert.key]
    if not behaviour.ok:
        _fail(behaviour.reasons())


def test_routing(conformance_session: ConformanceSession, alert: AlertContract, routing_setup: RoutingSetup) -> None:
    """Depth 4: the labels the alert fires with reach the documented receiver of this set-up."""
    result = conformance_session.routing()[(alert.key, routing_setup.name)]
    if not result.ok:
        _fail(result.problems)
