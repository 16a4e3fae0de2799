"""A live scenario run and what was observed of it: the values every live backend and the verdict exchange."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from conformance.model.contract import AlertContract
from conformance.model.prediction import Prediction
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class ReplicaLoss:
    """High availability: one replica of the alerting stack lost at a moment of a scenario run.

    ``component`` ``prometheus`` (a Prometheus replica) or ``alertmanager`` (a peer of the Alertmanager cluster
    of the routing set-up ``setup``); ``when`` ``pending`` (once the alert is pending) or ``notified`` (once that
    set-up notified it, the peer that sent it is the one lost).
    """

    component: Literal["prometheus", "alertmanager"]
    when: Literal["pending", "notified"]
    setup: str | None = None

    @property
    def id(self) -> str:
        what = "prometheus-replica" if self.component == "prometheus" else f"alertmanager-{self.setup}-peer"
        return f"{what}-lost-{'while-pending' if self.when == 'pending' else 'after-notifying'}"

    def describe(self) -> str:
        what = "a Prometheus replica" if self.component == "prometheus" else f"an Alertmanager peer of {self.setup}"
        moment = "while the alert is pending" if self.when == "pending" else "just after it notified"
        return f"{what} lost {moment}"


@dataclass(frozen=True)
class ScenarioRun:
    """One alert scenario to inject live, with the level and the prediction from depth 3.

    ``losses``: the replicas of the alerting stack lost while it runs (high availability: each at its moment, see
    :func:`conformance.replicas.ha_runs`). ``repeat``: a second run of the alert's scenario for a
    high-availability scenario of its own, which the alert's own row does not count.
    """

    alert: AlertContract
    scenario: Scenario
    level: float | None
    prediction: Prediction
    losses: tuple[ReplicaLoss, ...] = ()
    repeat: bool = False

    @property
    def id(self) -> str:
        """``Name[severity]:scenario``; a repeat adds its losses (``+prometheus-replica-lost-while-pending``)."""
        base = f"{self.alert.key}:{self.scenario.id}"
        return base + "".join(f"+{loss.id}" for loss in self.losses) if self.repeat else base


@dataclass
class Notification:
    """One webhook notification as captured: wall seconds since the run started, receiver, payload."""

    at_s: float
    receiver: str
    status: str
    payload: dict[str, Any]
    alerts: list[dict[str, Any]] = field(default_factory=list)
    #: The Alertmanager replica that sent it (``""``: not known), and one key per alert of the run it carried
    #: (the alert's labels that identify it; the same key twice is the same alert carried twice).
    sender: str = ""
    instances: list[str] = field(default_factory=list)
    entry: int | None = None  # which captured notification (a notification carrying several of the run's alerts)
    #: Every alert the notification carried, this run's or not, with its status (external labels aside): two
    #: notifications with the same content are the same notification sent twice.
    content: str = ""


@dataclass(frozen=True)
class Unsilenced:
    """An alert instance its scenario's ``silent_for`` forbids, seen while the fault held: when (wall seconds from
    the fault), what it did (``pending``, ``firing`` or ``notified <receiver>``) and the matcher it matched
    (``{deployment="researcher-service"}``)."""

    at_s: float
    event: str
    matcher: str


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
    #: Each first sighting of an instance the scenario's ``silent_for`` forbids, per matcher and event.
    unsilenced: list[Unsilenced] = field(default_factory=list)


StatusCallback = Callable[[str], None]
