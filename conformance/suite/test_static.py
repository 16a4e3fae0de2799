"""Depths 1 to 4 for every documented alert: contract, syntax, behaviour in virtual time, routing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

from conformance.errors import ConformanceError
from conformance.model.contract import AlertContract, RoutingSetup
from conformance.packs.selection import select_rules
from conformance.session import ConformanceSession
from conformance.static.behaviour import dependencies
from conformance.static.syntax import SyntaxReport

pytestmark = pytest.mark.static
T = TypeVar("T")


def _fail(reasons: list[str]) -> None:
    pytest.fail("; ".join(reasons), pytrace=False)


def _result(compute: Callable[[], T]) -> T:
    """A depth's results; an engine error (a tool that failed ...) is the item's one-line reason, no traceback."""
    try:
        return compute()
    except ConformanceError as error:
        pytest.fail(str(error).splitlines()[0], pytrace=False)


def test_contract(conformance_session: ConformanceSession, alert: AlertContract) -> None:
    """Depth 1: present, documented severity, threshold no looser, the documented ``for``, actionable annotations."""
    result = _result(conformance_session.contract)[alert.key]
    if not result.ok:
        _fail(result.problems)


def test_syntax(conformance_session: ConformanceSession, alert: AlertContract) -> None:
    """Depth 2: ``promtool check rules`` accepts every rule of this alert and every rule it depends on."""
    session = conformance_session
    selection = select_rules(session.pack, alert)
    rules = selection.rules or selection.named
    if not rules:
        _fail([f"the pack has no alerting rule named {alert.name}"])
    report = _result(session.syntax)
    names = {rule.alert or rule.record for rule in dependencies(rules, session.pack)}
    problems = [error for name in sorted(n for n in names if n) for error in _located(session, name, report)]
    for path, held in _result(session.rule_file_names).items():
        if names & held:
            problems += report.file_errors.get(path, [])
    problems += report.file_errors.get("promtool", [])
    if problems:
        _fail(problems)


def _located(session: ConformanceSession, name: str, report: SyntaxReport) -> list[str]:
    """promtool's complaints about rule ``name``, placed in the vendor's own file and line (promtool read the
    regenerated copies)."""
    rules = [rule for group in session.pack.groups for rule in group.rules if name in (rule.alert, rule.record)]
    where = ", ".join(rule.where() for rule in rules)
    return [f"{where}: {error.split(': ', 1)[-1]}" if where else error for error in report.rule_errors.get(name, [])]


def test_rule_files(conformance_session: ConformanceSession, rule_files: str) -> None:
    """Depth 2 for the whole pack: promtool accepts every rule file, documented alert or not."""
    report = _result(conformance_session.syntax)
    if report.promtool_failed:
        errors = [e for name in sorted(report.rule_errors) for e in _located(conformance_session, name, report)]
        errors += [e for errors in report.file_errors.values() for e in errors]
        _fail(errors or [report.promtool_output.strip().splitlines()[-1]])


def test_alertmanager_config(conformance_session: ConformanceSession, pack_setup_form: str) -> None:
    """Depth 2: ``amtool check-config`` accepts each Alertmanager set-up of the pack."""
    report = _result(conformance_session.syntax)
    problems = report.setup_errors.get(pack_setup_form, []) + report.setup_errors.get("amtool", [])
    if problems:
        _fail(problems)


def test_behaviour(conformance_session: ConformanceSession, alert: AlertContract) -> None:
    """Depth 3: fires past the threshold and not inside it, on time, stays firing while held, resolves after."""
    behaviour = _result(conformance_session.behaviour)[alert.key]
    if not behaviour.ok:
        _fail(conformance_session.behaviour_reasons(alert))


def test_routing(conformance_session: ConformanceSession, alert: AlertContract, routing_setup: RoutingSetup) -> None:
    """Depth 4: the labels the alert fires with reach the documented receiver of this set-up."""
    result = _result(conformance_session.routing)[(alert.key, routing_setup.name)]
    if not result.ok:
        _fail(result.problems)
