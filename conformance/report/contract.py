"""The documented contract beside the measurements: each number with whether the vendor documents it."""

from __future__ import annotations

from typing import Any

from conformance.model.contract import AlertContract, DocumentedDuration
from conformance.model.profile import Profile

CHOSEN = "the reference pack's choice, not documented"


def _duration(value: DocumentedDuration | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "seconds": value.seconds,
        "documented": value.documented,
        "note": value.note or ("" if value.documented else CHOSEN),
    }


def contract_entry(alert: AlertContract) -> dict[str, Any]:
    """One alert's contract as the report shows it (unscaled seconds, as documented)."""
    threshold = alert.threshold
    return {
        "alert": alert.name,
        "severity": alert.severity,
        "source": f"{alert.source.seed}: {alert.source.section}",
        "quote": alert.source.quote,
        "threshold": None
        if threshold is None
        else {
            "condition": threshold.describe(),
            "documented": threshold.documented,
            "note": threshold.note or ("" if threshold.documented else CHOSEN),
        },
        "for": _duration(alert.for_),
        "window": _duration(alert.window),
        "receivers": dict(alert.receivers),
        "finding": alert.expected_failure,
    }


def contract_entries(profile: Profile) -> list[dict[str, Any]]:
    return [contract_entry(alert) for alert in profile.alerts]
