"""A live scenario run and what was observed of it: the values every live backend and the verdict exchange."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.model.contract import AlertContract
from conformance.model.prediction import Prediction
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class ScenarioRun:
    """One alert scenario to inject live, with the level and the prediction from depth 3."""

    alert: AlertContract
    scenario: Scenario
    level: float | None
    prediction: Prediction

    @property
    def id(self) -> str:
        return f"{self.alert.key}:{self.scenario.id}"


@dataclass
class Notification:
    """One webhook notification as captured: wall seconds since the run started, receiver, payload."""

    at_s: float
    receiver: str
    status: str
    payload: dict[str, Any]
    alerts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Observation:
    """What a backend saw for one :class:`ScenarioRun`. Times are wall seconds from the fault's injection.

    ``timeline`` holds ``(seconds, event)`` pairs such as ``(31.0, "pending")``, ``(62.5, "firing")``,
    ``(64.1, "notified webhook-notifications")``, ``(90.0, "reverted")``, ``(101.2, "resolved")``.
    """

    run_id: str
    fault_applied: bool
    pending_s: float | None = None
    firing_s: float | None = None
    notified_s: float | None = None
    receivers: list[str] = field(default_factory=list)
    reverted_s: float | None = None
    resolved_notified_s: float | None = None
    notifications: list[Notification] = field(default_factory=list)
    timeline: list[tuple[float, str]] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None


StatusCallback = Callable[[str], None]
