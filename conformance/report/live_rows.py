"""Report rows from the live depth: one per documented alert, from the engine's results for its runs."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from conformance.model.contract import AlertContract
from conformance.model.run import ReplicaLoss
from conformance.observe.backend import LiveOutcome, NoiseFinding, RunResult
from conformance.observe.verdict import LiveVerdict
from conformance.report.contract import contract_entries
from conformance.report.model import AlertRow, LiveReport, Verdict, shown_receivers
from conformance.report.silent import behaviour_silent, live_silent, live_silent_for
from conformance.report.writer import write_report
from conformance.session import ConformanceSession
from conformance.static.behaviour import AlertBehaviour

NO_PREDICTION = "depth 3 made no firing prediction for this alert's scenarios, so there is nothing to run live"


def skipped_row(alert: AlertContract, reason: str) -> AlertRow:
    return AlertRow(alert.name, alert.severity, "skip", reason)


def live_row(
    alert: AlertContract,
    results: list[RunResult],
    finding: str | None,
    time_scale: float,
    reads: Collection[str] = (),
    noise: Sequence[NoiseFinding] = (),
    behaviour: AlertBehaviour | None = None,
) -> AlertRow:
    """The alert's verdict over all its runs, with the first run's measured times and predicted window.

    ``finding`` is the documented defect that makes a failure expected (``xfail``); an alert with a finding that
    passes is a failure of the profile (the finding no longer holds). ``reads`` names the alerts an aggregate
    reads through ``ALERTS``: when it fails, those of them in ``noise`` (pending or firing on the healthy
    cluster) are named, as the change behind the aggregate's symptom. ``behaviour`` (depth 3's results for the
    alert) adds depth 3's verdict on each scenario documented to stay silent beside the live one.
    """
    silent = behaviour_silent(behaviour) if behaviour is not None else []
    if not results:
        row = AlertRow(alert.name, alert.severity, "xfail" if finding else "fail", NO_PREDICTION)
        row.silent_scenarios = silent
        return row
    verdicts = [result.verdict() for result in results]
    row = _measured(alert, results[0], verdicts[0], time_scale)
    row.notifications = summed_counts(verdicts)
    row.silent_scenarios = silent + live_silent(results)
    row.timeline = row.timeline + senders_timeline(results[0])
    failed = [v for v in verdicts if v.outcome == "fail"]
    skipped = [v for v in verdicts if v.outcome == "skip"]
    if failed:
        row.verdict = "xfail" if finding else "fail"
        row.reason = "\n".join(v.message() for v in failed)
        inner = [item.describe() for item in noise if item.alert in reads]
        if inner:
            row.reason += "\nthe alerts it reads, on the healthy cluster: " + "; ".join(inner)
        if finding:
            row.reason = f"finding: {finding}\n{row.reason}"
    elif len(skipped) == len(verdicts):
        row.verdict = "skip"
        row.reason = "; ".join(v.problems[0] for v in skipped if v.problems)
    elif finding:
        row.verdict = "fail"
        row.reason = f"documented as a finding ({finding}) but passed live"
    return row


def loss_row(loss: ReplicaLoss, results: list[RunResult], outcome: LiveOutcome) -> AlertRow:
    """The row of one high-availability scenario over every documented alert run with it: each judged as any
    run (notified in its window, resolved, counted), the row failing when one fails; named after the loss, with
    how many alerts it found at their moment."""
    title = f"{loss.describe()}"
    if not results:
        reason = (
            f"the {outcome.backend} backend does not run high-availability scenarios"
            if not outcome.results or all(not r.run.losses for r in outcome.results)
            else "no documented alert that depth 3 predicts fires reaches this set-up, so there is nothing to run"
        )
        return AlertRow(title, "-", "skip", reason)
    alert = results[0].run.alert
    row = live_row(alert, results, None, outcome.time_scale)
    names = sorted({result.run.alert.key for result in results})
    row.alert = f"{title}: {len(names)} alert{'s' if len(names) != 1 else ''}"
    row.severity = "-"
    row.silent_scenarios = live_silent(results, by_run=True)  # a row over several alerts: named by their runs
    summary = moment_summary(loss, results)
    row.reason = f"{summary}\n{row.reason}" if row.reason else summary
    return row


def worker_loss_row(refs: tuple[tuple[str, str], ...], outcome: LiveOutcome) -> AlertRow:
    """The row of the high-availability scenario "a system worker lost": the documented scenarios that lose one
    (the profile's ``high_availability.worker_loss``), each judged as any run of its alert (the alerts it must
    fire notified in their window and, where the workloads come back elsewhere, resolved as depth 3 predicted;
    those the document keeps silent, ``silent_for``, neither pending, firing nor notified while the node is lost:
    on a pass the reason says so for each scenario)."""
    results = [
        result
        for result in outcome.results
        if (result.run.alert.key, result.run.scenario.id) in refs and not result.run.repeat
    ]
    nodes = sorted({str(result.run.scenario.target.node) for result in results})
    title = f"a system worker lost ({', '.join(nodes) or 'no run'})"
    if not results:
        return AlertRow(title, "-", "skip", "depth 3 made no firing prediction for these scenarios")
    row = live_row(results[0].run.alert, results, None, outcome.time_scale)
    row.alert = f"{title}: {', '.join(sorted({f'{r.run.alert.key}:{r.run.scenario.id}' for r in results}))}"
    row.severity = "-"
    row.silent_scenarios = live_silent(results, by_run=True)
    if row.verdict == "pass":
        # The scaled components the document keeps silent (silent_for) are half of what the row proves: say so.
        held = [live_silent_for(result, result.run.id) for result in results if result.run.scenario.silent_for]
        row.reason = "\n".join(f"{entry.scenario}: {entry.detail}" for entry in held if entry.verdict == "pass")
    return row


def moment_summary(loss: ReplicaLoss, results: list[RunResult]) -> str:
    """Which runs the one loss found at their moment (pending, or just notified by the set-up), which not."""
    moment = "pending" if loss.when == "pending" else f"notified by {loss.setup}"
    hit: list[str] = []
    missed: list[str] = []
    lost = ""
    suffix = f" ({loss.id})"
    for result in results:
        observation = result.observation
        events = [(at, event) for at, event in observation.timeline if event.startswith("lost ") and suffix in event]
        times = [at for at, _ in events]
        lost = lost or next((e.removeprefix("lost ").removesuffix(suffix) for _, e in events), "")
        if not times:
            missed.append(f"{result.run.alert.key}:{result.run.scenario.id} (not lost)")
            continue
        at = times[0]
        firing = [n.at_s for n in observation.notifications if n.status == "firing"]
        if loss.when == "pending":
            ok = observation.pending_s is not None and observation.pending_s <= at and not [t for t in firing if t < at]
        else:
            ok = any(
                n.at_s <= at and n.status == "firing" and n.receiver.startswith(f"{loss.setup}/")
                for n in observation.notifications
            )
        (hit if ok else missed).append(f"{result.run.alert.key}:{result.run.scenario.id}")
    line = f"{lost or 'no replica'} lost while {len(hit)} of {len(results)} runs were {moment}"
    return line + (f"; not at that moment: {', '.join(missed)}" if missed else "")


def summed_counts(verdicts: list[LiveVerdict]) -> dict[str, dict[str, int]]:
    """The notification counts of every run of the alert, per receiver and status."""
    total: dict[str, dict[str, int]] = {}
    for verdict in verdicts:
        for receiver, counts in verdict.notifications.items():
            per_status = total.setdefault(receiver, {})
            for status, count in counts.items():
                per_status[status] = per_status.get(status, 0) + count
    return total


def senders_timeline(result: RunResult) -> list[tuple[float, str]]:
    """For the HTML timeline: which Alertmanager replica sent each notification, where the backend knows."""
    return [
        (n.at_s, f"{'notified' if n.status == 'firing' else 'resolved notified'} {n.receiver} by {n.sender}")
        for n in result.observation.notifications
        if n.sender
    ]


def _measured(alert: AlertContract, first: RunResult, verdict: LiveVerdict, time_scale: float) -> AlertRow:
    expectation = first.expectation
    window = None
    if expectation.fire_s is not None and expectation.receivers:
        latest = max(expectation.latest_notify_s(r, False) or 0.0 for r in expectation.receivers)
        window = (expectation.fire_s, latest)
    passed: Verdict = "pass"
    return AlertRow(
        alert=alert.name,
        severity=alert.severity,
        verdict=passed,
        documented_threshold_s=(alert.for_.seconds / time_scale) if alert.for_.documented else None,
        predicted_fire_s=expectation.fire_s,
        measured_fire_s=verdict.fire_s,
        measured_notify_s=verdict.notify_s,
        receiver=shown_receivers(verdict.receivers, expectation.quiet_receivers),
        timeline=verdict.timeline,
        window=window,
    )


def live_report(session: ConformanceSession) -> LiveReport:
    """The session's live report, made once; with ``--conformance-report DIR`` it is written at the session's end."""

    def create() -> LiveReport:
        report = LiveReport(session.profile.name, session.options.time_scale, session.options.backend)
        report.contract = contract_entries(session.profile, session.judged())
        directory = session.options.report_dir
        if directory is not None:

            def write() -> None:
                write_report(report, directory)

            session.add_finalizer(write)
        return report

    return session.memo("live-report", create)
