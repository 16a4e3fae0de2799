"""The documented contract beside the measurements: each number with whether the vendor documents it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from conformance.model.contract import AlertContract, DocumentedDuration, RoutingSetup
from conformance.model.profile import Profile
from conformance.static.basis import JudgedDuration

CHOSEN = "the reference pack's choice, not documented"


def _duration(value: DocumentedDuration | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "seconds": value.seconds,
        "documented": value.documented,
        "quote": value.quote,
        "note": value.note or ("" if value.documented else CHOSEN),
    }


def _settings(alert: AlertContract, routing: tuple[RoutingSetup, ...]) -> dict[str, dict[str, Any]]:
    """Per routing set-up the alert must reach, its notification settings: value, documented or not, and why."""
    found: dict[str, dict[str, Any]] = {}
    for setup in routing:
        if setup.name not in alert.receivers or not setup.settings:
            continue
        found[setup.name] = {
            name: {
                "value": list(setting.value) if isinstance(setting.value, tuple) else setting.value,
                "documented": setting.documented,
                "quote": setting.quote,
                "note": setting.note or ("" if setting.documented else CHOSEN),
            }
            for name, setting in sorted(setup.settings.items())
        }
    return found


def contract_entry(
    alert: AlertContract, routing: tuple[RoutingSetup, ...] = (), judged: Sequence[JudgedDuration] = ()
) -> dict[str, Any]:
    """One alert's contract as the report shows it (unscaled seconds, as documented), with the notification
    settings of each routing set-up it must reach (group timers, grouping, ``send_resolved``), and the ``for``
    and window its timing was judged with (``judged_with``: documented, or the pack's own value and why)."""
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
            "quote": threshold.quote,
            "note": threshold.note or ("" if threshold.documented else CHOSEN),
        },
        "for": _duration(alert.for_),
        "window": _duration(alert.window),
        "receivers": dict(alert.receivers),
        "finding": alert.expected_failure,
        "settings": _settings(alert, routing),
        "notifies": alert.notifies,
        "judged_with": [value.to_json() for value in judged],
    }


def contract_entries(
    profile: Profile, judged: Mapping[str, Sequence[JudgedDuration]] | None = None
) -> list[dict[str, Any]]:
    """Every alert's entry; ``judged`` maps an alert key to the durations depth 3 judged it with."""
    judged = judged or {}
    return [contract_entry(alert, profile.routing, judged.get(alert.key, ())) for alert in profile.alerts]
