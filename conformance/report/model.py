"""The rows of the certification report (times in wall seconds as measured, at the run's time scale)."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["pass", "fail", "skip", "xfail"]
#: The depths that judge a scenario documented to stay silent: depth 3 (promtool, virtual time) and live.
SilentDepth = Literal["behaviour", "live"]

#: The keys of one alert in ``report.json``, in order: those the issue specifies, then ``silent_scenarios``.
JSON_KEYS = (
    "alert",
    "severity",
    "verdict",
    "reason",
    "documented_threshold_s",
    "predicted_fire_s",
    "measured_fire_s",
    "measured_notify_s",
    "receiver",
    "notifications",
    "silent_scenarios",
)


def shown_receivers(receivers: Iterable[str], quiet: Collection[str]) -> str | None:
    """The receivers an alert reached, for its row: one without any integration notifies nobody, so it is shown
    as ``routed to <receiver>`` (as in the timeline), never as a receiver that was notified."""
    shown = [f"routed to {receiver}" if receiver in quiet else receiver for receiver in receivers]
    return ", ".join(shown) or None


@dataclass(frozen=True)
class SilentVerdict:
    """One scenario the document says must not raise its alert (``expect: silent``), as one depth judged it.

    ``scenario`` is the scenario's id in its alert's row, the run's id (``Alert[severity]:scenario``) in a row
    over several alerts (a high-availability scenario); ``detail`` says what happened, in words.
    """

    scenario: str
    depth: SilentDepth
    verdict: Literal["pass", "fail", "skip"]
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"scenario": self.scenario, "depth": self.depth, "verdict": self.verdict, "detail": self.detail}


@dataclass
class AlertRow:
    """One documented alert's live outcome. ``timeline`` and ``window`` only feed the HTML picture."""

    alert: str
    severity: str
    verdict: Verdict
    reason: str = ""
    documented_threshold_s: float | None = None
    predicted_fire_s: float | None = None
    measured_fire_s: float | None = None
    measured_notify_s: float | None = None
    receiver: str | None = None
    #: Notifications per receiver and status, counted over the alert's runs: ``{"webhook/hook": {"firing": 1}}``.
    notifications: dict[str, dict[str, int]] = field(default_factory=dict)
    #: The alert's scenarios documented to stay silent, each with its verdict at every depth that judged it.
    silent_scenarios: list[SilentVerdict] = field(default_factory=list)
    timeline: list[tuple[float, str]] = field(default_factory=list)
    window: tuple[float, float] | None = None  # (earliest, latest) notification, wall seconds

    def to_json(self) -> dict[str, Any]:
        out = {key: getattr(self, key) for key in JSON_KEYS}
        out["silent_scenarios"] = [silent.to_json() for silent in self.silent_scenarios]
        return out


@dataclass
class LiveReport:
    """Rows collected while the live items run (thread-safe), written once at the end of the session."""

    profile: str
    time_scale: float
    backend: str = "twin"
    rows: list[AlertRow] = field(default_factory=list)
    rewrites: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The documented contract per alert (see conformance.report.contract): which numbers are documented.
    contract: list[dict[str, Any]] = field(default_factory=list)
    #: Alerts of the pack, profiled or not, pending or firing on the healthy world (``alert``, ``labels``,
    #: ``state``, ``profiled``, ``expected``: documented to fire all the time, as Watchdog): what an operator
    #: would be paged by with nothing wrong.
    noise: list[dict[str, Any]] = field(default_factory=list)
    #: Per alert of the pack, the selectors matching no series of the run's simulated world (``report.json``
    #: key ``coverage``; alerts whose selectors all match are left out). None: not computed.
    coverage: dict[str, list[str]] | None = None
    #: Depth 4's notes, every one (``report.json`` key ``routing_notes``: ``alert``, ``setup``, ``note``): a
    #: documented receiver without integration, an inhibit rule that can mute the alert. None: depth 4 did not run.
    routing_notes: list[dict[str, str]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, row: AlertRow) -> None:
        with self._lock:
            self.rows = [r for r in self.rows if (r.alert, r.severity) != (row.alert, row.severity)]
            self.rows.append(row)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "profile": self.profile,
            "time_scale": self.time_scale,
            "alerts": [row.to_json() for row in self.rows],
            "noise": list(self.noise),
        }
        if self.coverage is not None:
            out["coverage"] = self.coverage
        if self.routing_notes is not None:
            out["routing_notes"] = self.routing_notes
        return out
