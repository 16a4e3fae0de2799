"""Depth 5 and 6, live: each documented alert's failure injected, the notification captured at its receiver.

All scenario runs of the profile run once, at the first live item, on the backend ``--backend`` names (the
twin by default; kind and cluster come from :mod:`conformance.kube.backends`). Each item then judges its
alert's runs: notified at the expected receiver between the predicted time-to-fire and that plus the pipeline
budget, a resolved notification after the revert where ``send_resolved`` is set, nothing on the healthy
cluster. ``--conformance-report DIR`` writes ``report.json`` and ``report.html`` at the end of the session.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance.model.contract import AlertContract
from conformance.model.run import Observation, ScenarioRun
from conformance.observe.backend import LiveBackend
from conformance.observe.expectations import Expectation, expectation_for
from conformance.observe.verdict import LiveVerdict, judge
from conformance.report import AlertRow, LiveReport, write_report
from conformance.report.contract import contract_entries
from conformance.session import ConformanceSession

pytestmark = pytest.mark.live


@dataclass
class LiveResults:
    """Everything the live run produced, shared by the items."""

    backend: LiveBackend
    runs: list[ScenarioRun]
    observations: dict[str, Observation]
    expectations: dict[str, Expectation]
    wall_s: float
    logs: dict[str, str] = field(default_factory=dict)


class StatusLine:
    """One line on the real terminal (stderr), rewritten in place, outside pytest's capture."""

    def __init__(self, config: pytest.Config) -> None:
        self._capman: Any = config.pluginmanager.getplugin("capturemanager")
        self._tty = sys.stderr.isatty()
        self._last = 0.0
        self._shown = False

    def _write(self, text: str) -> None:
        if self._capman is not None:
            with self._capman.global_and_fixture_disabled():
                sys.stderr.write(text)
                sys.stderr.flush()
        else:
            sys.stderr.write(text)

    def __call__(self, line: str) -> None:
        now = time.monotonic()
        if self._tty and now - self._last >= 0.2:
            self._write("\r\x1b[K" + line[:200])
            self._shown = True
            self._last = now
        elif not self._tty and now - self._last >= 10:
            self._write(line + "\n")
            self._last = now

    def clear(self) -> None:
        if self._shown:
            self._write("\r\x1b[K")
            self._shown = False


def make_backend(session: ConformanceSession) -> LiveBackend:
    """The twin for ``--backend twin``; kind and cluster from :mod:`conformance.kube.backends`."""
    if session.options.backend == "twin":
        from conformance.twin.backend import TwinBackend

        return TwinBackend(
            session.profile, session.pack, time_scale=session.options.time_scale, tools=dict(session.options.tools)
        )
    # Imported by name: the kube package is only needed (and its client only loaded) for those backends.
    kube_backends = importlib.import_module("conformance.kube.backends")
    backend: LiveBackend = kube_backends.make_backend(session)
    return backend


def live_runs(session: ConformanceSession) -> list[ScenarioRun]:
    return [run for run in session.scenario_runs() if run.alert.live and not run.alert.live_skip_reason]


def _live_results(session: ConformanceSession, config: pytest.Config) -> LiveResults:
    def compute() -> LiveResults:
        backend = make_backend(session)
        session.add_finalizer(backend.close)
        runs = live_runs(session)
        status = StatusLine(config)
        started = time.monotonic()
        try:
            observations = backend.run(runs, status=status)
        finally:
            status.clear()
            backend.close()
        report = _report(session)
        report.rewrites = [item.describe() for item in getattr(backend, "rewrites", [])]
        return LiveResults(
            backend=backend,
            runs=runs,
            observations={obs.run_id: obs for obs in observations},
            expectations={
                run.id: expectation_for(run, session.profile, session.pack, backend.time_scale) for run in runs
            },
            wall_s=time.monotonic() - started,
            logs=dict(getattr(backend, "logs", {})),
        )

    return session.memo("live-results", compute)


def _report(session: ConformanceSession) -> LiveReport:
    def create() -> LiveReport:
        report = LiveReport(session.profile.name, session.options.time_scale, session.options.backend)
        report.contract = contract_entries(session.profile)
        directory = session.options.report_dir
        if directory is not None:

            def write() -> None:
                write_report(report, directory)

            session.add_finalizer(write)
        return report

    return session.memo("live-report", create)


def _row(alert: AlertContract, verdicts: list[LiveVerdict], results: LiveResults, runs: list[ScenarioRun]) -> AlertRow:
    first = verdicts[0]
    expectation = results.expectations[runs[0].id]
    window = None
    if expectation.fire_s is not None and expectation.receivers:
        latest = max(expectation.latest_notify_s(r, False) or 0.0 for r in expectation.receivers)
        window = (expectation.fire_s, latest)
    scale = results.backend.time_scale
    return AlertRow(
        alert=alert.name,
        severity=alert.severity,
        verdict="pass",
        documented_threshold_s=(alert.for_.seconds / scale) if alert.for_.documented else None,
        predicted_fire_s=expectation.fire_s,
        measured_fire_s=first.fire_s,
        measured_notify_s=first.notify_s,
        receiver=", ".join(first.receivers) or None,
        timeline=first.timeline,
        window=window,
    )


def _expected_failure(session: ConformanceSession, alert: AlertContract) -> bool:
    return bool(alert.expected_failure) and session.options.alert_pack is None


def _log_sections(results: LiveResults) -> Iterator[tuple[str, str]]:
    for name, text in results.logs.items():
        if text.strip():
            yield f"{name} log (tail)", text


def test_live(conformance_session: ConformanceSession, alert: AlertContract, request: pytest.FixtureRequest) -> None:
    """The documented failure, injected live, notifies the documented receiver in time, then resolves."""
    session = conformance_session
    report = _report(session)
    reason = alert.live_skip_reason or ("" if alert.live else "the profile marks this alert as not live")
    if reason:
        report.add(AlertRow(alert.name, alert.severity, "skip", reason))
        pytest.skip(reason)
    results = _live_results(session, request.config)
    runs = [run for run in results.runs if run.alert.key == alert.key]
    if not runs:
        message = "depth 3 made no firing prediction for this alert's scenarios, so there is nothing to run live"
        report.add(
            AlertRow(alert.name, alert.severity, "xfail" if _expected_failure(session, alert) else "fail", message)
        )
        pytest.fail(message, pytrace=False)
    verdicts = [judge(results.expectations[run.id], results.observations[run.id]) for run in runs]
    row = _row(alert, verdicts, results, runs)
    failed = [v for v in verdicts if v.outcome == "fail"]
    skipped = [v for v in verdicts if v.outcome == "skip"]
    if failed:
        row.verdict = "xfail" if _expected_failure(session, alert) else "fail"
        row.reason = "\n".join(v.message() for v in failed)
        if row.verdict == "xfail":
            row.reason = f"finding: {alert.expected_failure}\n{row.reason}"
        report.add(row)
        for title, text in _log_sections(results):
            request.node.add_report_section("call", title, text)
        pytest.fail("\n".join(v.message() for v in failed), pytrace=False)
    if skipped and len(skipped) == len(verdicts):
        row.verdict = "skip"
        row.reason = "; ".join(v.problems[0] for v in skipped if v.problems)
        report.add(row)
        pytest.skip(row.reason)
    if _expected_failure(session, alert):
        row.verdict = "fail"
        row.reason = f"documented as a finding ({alert.expected_failure}) but passed live"
    report.add(row)
