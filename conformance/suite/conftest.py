"""Fixtures and parametrization shared by the conformance suite: one item per documented alert and depth."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.model.contract import AlertContract
from conformance.plugin import SESSION_KEY
from conformance.session import ConformanceSession
from conformance.static.coverage import describe_absent


def _session(config: pytest.Config) -> ConformanceSession:
    if SESSION_KEY not in config.stash:
        raise pytest.UsageError("the conformance suite needs --profile NAME (e.g. pytest --profile runai)")
    session: ConformanceSession = config.stash[SESSION_KEY]
    return session


def alert_id(session: ConformanceSession, alert: AlertContract) -> str:
    """``runai:RunaiContainerRestarting``; the severity is added when one name carries several, and the rule
    labels when entries of one name and severity tell their rules apart by them
    (``kp:KubeAPIErrorBudgetBurn:critical:long=1h,short=5m``)."""
    same_name = [a for a in session.profile.alerts if a.name == alert.name]
    suffix = f":{alert.severity}" if len(same_name) > 1 else ""
    if alert.rule_labels and len(same_name) > 1:
        suffix += ":" + ",".join(f"{name}={value}" for name, value in sorted(alert.rule_labels.items()))
    return f"{session.profile.name}:{alert.name}{suffix}"


def expected_failure_marks(session: ConformanceSession, alert: AlertContract) -> list[pytest.MarkDecorator]:
    """A documented finding of the reference pack is an expected failure, and only for the reference pack."""
    finding = session.finding(alert)
    return [pytest.mark.xfail(reason=f"finding: {finding}", strict=True)] if finding else []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    session = _session(metafunc.config)
    names = metafunc.fixturenames
    depth_has_findings = metafunc.function.__name__ in ("test_behaviour", "test_live")
    if "alert" in names and "routing_setup" in names:
        params = [
            pytest.param(alert, setup, id=f"{alert_id(session, alert)}:{setup.name}")
            for alert in session.profile.alerts
            for setup in session.profile.routing
        ]
        metafunc.parametrize(("alert", "routing_setup"), params)
    elif "alert" in names:
        params = [
            pytest.param(
                alert,
                id=alert_id(session, alert),
                marks=expected_failure_marks(session, alert) if depth_has_findings else [],
            )
            for alert in session.profile.alerts
        ]
        metafunc.parametrize("alert", params)
    elif "replica_loss" in names:
        from conformance.replicas import replica_losses

        losses = replica_losses(session.profile, session.pack)
        loss_params = [pytest.param(loss, id=f"{session.profile.name}:{loss.id}") for loss in losses] or [
            pytest.param(
                None,
                id=f"{session.profile.name}:no-replicas",
                marks=pytest.mark.skip(
                    reason="one Prometheus and one Alertmanager per set-up (neither the profile's "
                    "high_availability nor the pack sets replicas): no replica to lose"
                ),
            )
        ]
        metafunc.parametrize("replica_loss", loss_params)
    elif "rule_files" in names:
        metafunc.parametrize("rule_files", ["rules"], ids=[f"{session.profile.name}:rule-files"])
    elif "pack_setup_form" in names:
        forms = [setup.form for setup in session.pack.setups]
        metafunc.parametrize(
            "pack_setup_form", forms, ids=[f"{session.profile.name}:alertmanager:{form}" for form in forms]
        )


@pytest.fixture(scope="session")
def conformance_session(request: pytest.FixtureRequest) -> ConformanceSession:
    return _session(request.config)


def _coverage(conformance: ConformanceSession) -> dict[str, list[str]]:
    return {alert: describe_absent(found) for alert, found in conformance.coverage().items()}


def _routing_notes(conformance: ConformanceSession) -> list[dict[str, str]] | None:
    notes = conformance.routing_notes()
    return None if notes is None else [note.to_json() for note in notes]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """``--conformance-report`` on a run without live items: the report from the static depths. Either way the
    report carries the run's coverage and depth 4's routing notes (where depth 4 ran)."""
    config = session.config
    if SESSION_KEY not in config.stash:
        return
    conformance = _session(config)
    directory = conformance.options.report_dir
    if directory is None or conformance.options.plan:
        return
    if conformance.has_memo("live-report"):
        # The live depth writes its report when the session closes; it carries the coverage too.
        live: Any = conformance.memo("live-report", lambda: None)
        if live is not None:
            live.coverage = _coverage(conformance)
            live.routing_notes = _routing_notes(conformance)
        return
    from conformance.report import LiveReport, write_report
    from conformance.report.contract import contract_entries
    from conformance.report.static_rows import static_rows

    report = LiveReport(conformance.profile.name, 1.0, "static")
    report.contract = contract_entries(conformance.profile, conformance.judged())
    report.notes.append("static depths only: predicted times are unscaled virtual seconds; nothing ran live")
    for row in static_rows(conformance):
        report.add(row)
    report.coverage = _coverage(conformance)
    report.routing_notes = _routing_notes(conformance)
    write_report(report, directory)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """After a live run: every alert that was pending or firing while the cluster was still healthy."""
    if SESSION_KEY not in config.stash:
        return
    session = _session(config)
    if not session.has_memo("live-outcome"):
        return
    from conformance.backends import run_live

    noise = run_live(session, lambda _line: None).noise  # memoized: the outcome of the run that happened
    if noise:
        terminalreporter.section("noise: alerts on the healthy cluster")
        for item in noise:
            terminalreporter.line(item.describe())
