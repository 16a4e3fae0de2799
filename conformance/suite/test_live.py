"""Depth 5 and 6, live: each documented alert's failure injected, the notification captured at its receiver.

All scenario runs of the profile run once, at the first live item, on the backend ``--backend`` names
(:func:`conformance.backends.run_live`). Each item then asserts on its alert's row, which the report package
computes from the engine's results (:func:`conformance.report.live_rows.live_row`): notified at the expected
receiver between the predicted time-to-fire and that plus the pipeline budget, a resolved notification after the
revert where ``send_resolved`` is set, nothing on the healthy cluster. ``--conformance-report DIR`` writes
``report.json`` and ``report.html`` at the end of the session.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import pytest

from conformance.backends import run_live
from conformance.model.contract import AlertContract
from conformance.model.run import ReplicaLoss
from conformance.observe.backend import LiveOutcome
from conformance.report.live_rows import live_report, live_row, loss_row, skipped_row, worker_loss_row
from conformance.session import ConformanceSession

pytestmark = pytest.mark.live


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


def _outcome(session: ConformanceSession, config: pytest.Config) -> LiveOutcome:
    status = StatusLine(config)
    try:
        outcome = run_live(session, status)
    finally:
        status.clear()
    report = live_report(session)
    report.rewrites = list(outcome.rewrites)
    report.noise = [item.to_json() for item in outcome.noise]
    return outcome


def test_live(conformance_session: ConformanceSession, alert: AlertContract, request: pytest.FixtureRequest) -> None:
    """The documented failure, injected live, notifies the documented receiver in time, then resolves."""
    session = conformance_session
    report = live_report(session)
    reason = alert.live_skip_reason or ("" if alert.live else "the profile marks this alert as not live")
    if reason:
        report.add(skipped_row(alert, reason))
        pytest.skip(reason)
    outcome = _outcome(session, request.config)
    row = live_row(
        alert,
        outcome.of_alert(alert.key),
        session.finding(alert),
        outcome.time_scale,
        reads=session.inner_alerts(alert),
        noise=outcome.noise,
        behaviour=session.behaviour().get(alert.key),  # computed for the predictions the runs carry
    )
    report.add(row)
    finding = session.finding(alert)
    if row.verdict == "fail" and finding:
        return  # passed live though a finding says it cannot: the strict xfail mark reports it as a failure
    if row.verdict in ("fail", "xfail"):
        for name, text in outcome.complaints().items():
            request.node.add_report_section("call", f"{name} log (warnings and errors)", text)
        pytest.fail(row.reason, pytrace=False)
    if row.verdict == "skip":
        pytest.skip(row.reason)


def test_high_availability(
    conformance_session: ConformanceSession, replica_loss: ReplicaLoss, request: pytest.FixtureRequest
) -> None:
    """A replica of the alerting stack lost at the worst moment neither silences nor duplicates the alert: still
    notified within its budget, once per receiver, and resolved once (a row of its own in the report)."""
    session = conformance_session
    outcome = _outcome(session, request.config)
    row = loss_row(replica_loss, outcome.of_loss(replica_loss.id), outcome)
    live_report(session).add(row)
    if row.verdict == "fail":
        for name, text in outcome.complaints(within=replica_loss.id).items():
            request.node.add_report_section("call", f"{name} log (warnings and errors)", text)
        pytest.fail(row.reason, pytrace=False)
    if row.verdict == "skip":
        pytest.skip(row.reason)


def test_system_worker_loss(conformance_session: ConformanceSession, request: pytest.FixtureRequest) -> None:
    """A system worker lost (seed 004): the components on it come back on another, and their alerts behave as
    documented (a row of its own in the report, over the scenarios ``high_availability.worker_loss`` names)."""
    session = conformance_session
    ha = session.profile.high_availability
    if ha is None or not ha.worker_loss:
        pytest.skip("the profile names no scenario that loses a system worker (high_availability.worker_loss)")
    outcome = _outcome(session, request.config)
    row = worker_loss_row(ha.worker_loss, outcome)
    live_report(session).add(row)
    if row.verdict == "fail":
        pytest.fail(row.reason, pytrace=False)
    if row.verdict == "skip":
        pytest.skip(row.reason)
