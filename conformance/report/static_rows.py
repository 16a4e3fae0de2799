"""Report rows from the static depths alone, for runs without a live depth (``-m static``)."""

from __future__ import annotations

from conformance.observe.expectations import quiet_receivers
from conformance.report.model import AlertRow, Verdict, shown_receivers
from conformance.report.silent import behaviour_silent
from conformance.session import ConformanceSession


def static_rows(session: ConformanceSession) -> list[AlertRow]:
    """One row per documented alert: the verdict of depths 1 to 4 together, depth 3's prediction, and its verdict
    on each scenario documented to stay silent.

    Times are unscaled virtual seconds (nothing ran live); measured times stay empty.
    """
    contract = session.contract()
    behaviour = session.behaviour()
    routing = session.routing()
    quiet = quiet_receivers(session.profile, session.pack)
    rows = []
    for alert in session.profile.alerts:
        reasons = list(contract[alert.key].problems) + session.behaviour_reasons(alert)
        for setup in session.profile.routing:
            reasons += routing[(alert.key, setup.name)].problems
        predictions = [p for p in behaviour[alert.key].predictions if p.fire_after_s is not None]
        verdict: Verdict = "fail" if reasons else "pass"
        finding = session.finding(alert)
        if reasons and finding:
            verdict = "xfail"
            reasons = [f"finding: {finding}", *reasons]
        rows.append(
            AlertRow(
                alert=alert.label,
                severity=alert.severity,
                verdict=verdict,
                reason="; ".join(reasons),
                documented_threshold_s=alert.for_.seconds if alert.for_.documented else None,
                predicted_fire_s=min((p.fire_after_s or 0.0) for p in predictions) if predictions else None,
                receiver=shown_receivers(
                    (f"{setup}/{receiver}" for setup, receiver in sorted(alert.receivers.items())), quiet
                ),
                silent_scenarios=behaviour_silent(behaviour[alert.key]),
            )
        )
    return rows
