"""Turn what Prometheus, Alertmanager and the capture webhook show into :class:`Observation` timelines.

The vocabulary is the live verdicts' (:mod:`conformance.observe.verdict`), so ``kind`` and ``cluster`` runs are
judged exactly like twin runs: ``pending``, ``firing``, ``in alertmanager <set-up>``, ``suppressed <set-up>``,
``notified <set-up>/<receiver>``, ``group already notified <set-up>/<receiver>``, ``reverted``, ``resolved``,
``resolved notified <set-up>/<receiver>``; times are wall seconds from the fault's injection, and events seen
in the healthy period before it carry negative times and the suffix ``(healthy cluster)``.

An alert instance belongs to the run whose predicted labels it carries
(:func:`conformance.observe.attribution.claims`), the prediction's node and namespace names first translated to
the cluster's (:func:`translate_run`): depth 3 predicted ``node="gpu-node-1"``, kind calls it ``ac-worker``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from conformance.kube.placement import Placement
from conformance.kube.sources import AlertSources
from conformance.model.profile import Profile
from conformance.model.run import Notification, Observation, ScenarioRun
from conformance.observe.attribution import claims
from conformance.observe.expectations import Expectation, expectation_for, qualified
from conformance.packs.model import Pack
from conformance.twin.capture import payload_problems

HEALTHY = " (healthy cluster)"


def translate_labels(labels: Mapping[str, str], placement: Placement) -> dict[str, str]:
    """Predicted labels in cluster names: node names by value, namespaces in ``*namespace`` labels."""
    result = {}
    for key, value in labels.items():
        if value in placement.nodes:
            result[key] = placement.nodes[value]
        elif key.endswith("namespace"):
            result[key] = placement.namespace(value)
        else:
            result[key] = value
    return result


def translate_run(run: ScenarioRun, placement: Placement) -> ScenarioRun:
    """``run`` with its prediction's labels in the cluster's names (for attribution only)."""
    labels = tuple(translate_labels(item, placement) for item in run.prediction.labels)
    return replace(run, prediction=replace(run.prediction, labels=labels))


@dataclass
class RunWatch:
    """One scenario run being watched: its expectation, observation and the receivers seen so far."""

    run: ScenarioRun  # labels translated to the cluster's names
    expectation: Expectation
    observation: Observation
    injected_at: float | None = None  # wall clock
    reverted_at: float | None = None
    notified: set[str] = field(default_factory=set)
    resolved: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    healthy: list[tuple[float, str]] = field(default_factory=list)  # absolute times, before the injection

    def event(self, at: float, text: str) -> None:
        """Record ``text`` once: relative to the injection, or kept for the healthy period until it is known."""
        if self.injected_at is None:
            text += HEALTHY
            if text not in self.seen:
                self.seen.add(text)
                self.healthy.append((at, text))
            return
        if text not in self.seen:
            self.seen.add(text)
            self.observation.timeline.append((self.rel(at), text))

    def rel(self, at: float) -> float:
        assert self.injected_at is not None
        return round(at - self.injected_at, 3)

    def injected(self, at: float) -> None:
        """The fault went in at ``at``: healthy-period events become negative times."""
        self.injected_at = at
        self.observation.timeline[:0] = [(self.rel(t), text) for t, text in self.healthy]

    @property
    def expected(self) -> set[str]:
        return {r.name for r in self.expectation.receivers if not r.problem}

    def all_notified(self) -> bool:
        return bool(self.expected) and self.expected <= self.notified

    def waiting_resolved(self) -> list[str]:
        return [
            r.name
            for r in self.expectation.receivers
            if r.send_resolved and r.name in self.notified and r.name not in self.resolved
        ]

    def resolve_due(self) -> float:
        """Wall time by which every awaited resolved notification is overdue."""
        assert self.injected_at is not None and self.reverted_at is not None
        reverted = self.reverted_at - self.injected_at
        dues = [
            self.expectation.resolve_by_s(r, reverted)
            for r in self.expectation.receivers
            if r.name in self.waiting_resolved()
        ]
        return self.injected_at + max(dues, default=0.0)


def new_watches(runs: Sequence[ScenarioRun], profile: Profile, pack: Pack, placement: Placement) -> dict[str, RunWatch]:
    """A :class:`RunWatch` per run, with the expectation the live verdict will judge it by (time scale 1)."""
    return {
        run.id: RunWatch(
            translate_run(run, placement),
            expectation_for(run, profile, pack, 1.0),
            Observation(run.id, fault_applied=False),
        )
        for run in runs
    }


def setup_names(profile: Profile, pack: Pack) -> dict[str, str]:
    """Pack set-up name -> the profile's routing set-up name (same form), as the twin names receivers."""
    names = {setup.name: setup.name for setup in pack.setups}
    for documented in profile.routing:
        found = pack.setup(documented.form)
        if found is not None:
            names[found.name] = documented.name
    return names


@dataclass
class Watcher:
    """Polls the three sources and feeds every active :class:`RunWatch`.

    ``cluster_setup`` names the capture path ``/r/cluster/<namespace>`` an existing cluster's capture route
    posts to: those notifications are named after the real receivers Alertmanager reports for the alert.
    """

    sources: AlertSources
    profile: Profile
    pack: Pack
    clock: Callable[[], float]
    cursor: int = 0
    groups_notified: set[tuple[str, str]] = field(default_factory=set)
    other_notifications: list[dict[str, Any]] = field(default_factory=list)
    am_receivers: dict[tuple[tuple[str, str], ...], list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = setup_names(self.profile, self.pack)

    def skip_captured(self) -> None:
        """Start after what the capture webhook already holds (an earlier wave's or run's notifications)."""
        read = self.sources.captured(self.cursor)
        if read is not None:
            self.cursor = read[1]

    def poll(self, watches: Sequence[RunWatch]) -> None:
        now = self.clock()
        self._prometheus(watches, now)
        self._alertmanager(watches, now)
        self._captured(watches)

    def _prometheus(self, watches: Sequence[RunWatch], now: float) -> None:
        alerts = self.sources.prometheus_alerts()
        if alerts is None:
            return  # not read this time; "resolved" needs a successful read that lacks the alert
        active: dict[int, str] = {}
        for labels, state in alerts:
            for watch in watches:
                if claims(watch.run, labels) and active.get(id(watch)) != "firing":
                    active[id(watch)] = state
        for watch in watches:
            current, observation = active.get(id(watch)), watch.observation
            if current in ("pending", "firing"):
                watch.event(now, "pending")
                if watch.injected_at is not None and observation.pending_s is None:
                    observation.pending_s = watch.rel(now)
            if current == "firing":
                watch.event(now, "firing")
                if watch.injected_at is not None and observation.firing_s is None:
                    observation.firing_s = watch.rel(now)
            elif current is None and observation.firing_s is not None and watch.reverted_at is not None:
                watch.event(now, "resolved")

    def _alertmanager(self, watches: Sequence[RunWatch], now: float) -> None:
        alerts = self.sources.alertmanager_alerts()
        setup = self.profile.routing[0].name if self.profile.routing else "alertmanager"
        for alert in alerts or []:
            labels = alert.get("labels") or {}
            state = (alert.get("status") or {}).get("state")
            receivers = [str(r.get("name")) for r in alert.get("receivers") or [] if isinstance(r, dict)]
            self.am_receivers[tuple(sorted(labels.items()))] = receivers
            for watch in watches:
                if not claims(watch.run, labels):
                    continue
                if state == "suppressed":
                    watch.event(now, f"suppressed {setup}")
                elif state == "active":
                    watch.event(now, f"in alertmanager {setup}")

    def _receivers(self, path: str, alert: Mapping[str, Any]) -> list[str]:
        """The qualified receivers a capture path stands for."""
        parts = path.split("?", 1)[0].split("/")
        if len(parts) != 4 or parts[1] != "r":
            return []
        setup, receiver = unquote(parts[2]), unquote(parts[3])
        if setup != "cluster":
            pack_setup = next((s for s in self.pack.setups if s.name == setup), None)
            written = pack_setup.written_name(receiver) if pack_setup else receiver
            return [qualified(self.names.get(setup, setup), written)]
        # An existing cluster: the capture route runs beside the real routing; name the real receivers
        # Alertmanager reports for this alert (the capture receiver itself aside).
        labels = tuple(sorted((alert.get("labels") or {}).items()))
        real = [name for name in self.am_receivers.get(labels, []) if not name.endswith("/capture")]
        documented = {d.receiver: d.name for d in self.profile.routing}
        return [
            qualified(documented.get(name.rsplit("/", 1)[-1], "cluster"), name.rsplit("/", 1)[-1]) for name in real
        ] or [qualified("cluster", receiver)]

    def _captured(self, watches: Sequence[RunWatch]) -> None:
        read = self.sources.captured(self.cursor)
        if read is None:
            return
        entries, self.cursor = read
        for entry in entries:
            payload = entry.get("payload")
            if not isinstance(payload, dict):
                continue
            at = float(entry.get("at", self.clock()))
            path = str(entry.get("path", ""))
            group_key = str(payload.get("groupKey", ""))
            problems = payload_problems(payload)
            claimed = False
            receivers_seen: set[str] = set()
            for alert in payload.get("alerts") or []:
                if not isinstance(alert, dict):
                    continue
                labels = alert.get("labels") or {}
                status = str(alert.get("status", payload.get("status", "")))
                for receiver in self._receivers(path, alert):
                    receivers_seen.add(receiver)
                    for watch in watches:
                        if claims(watch.run, labels):
                            claimed = True
                            self._attribute(
                                watch,
                                at,
                                receiver,
                                payload,
                                alert,
                                status,
                                problems,
                                (receiver, group_key) in self.groups_notified,
                            )
            for receiver in receivers_seen:
                self.groups_notified.add((receiver, group_key))
            if not claimed:
                self.other_notifications.append(entry)

    def _attribute(
        self,
        watch: RunWatch,
        at: float,
        receiver: str,
        payload: dict[str, Any],
        alert: dict[str, Any],
        status: str,
        problems: list[str],
        group_notified: bool,
    ) -> None:
        observation = watch.observation
        if watch.injected_at is None:
            watch.event(at, f"notified {receiver}" if status == "firing" else f"resolved notified {receiver}")
            return
        rel = watch.rel(at)
        if any(n.at_s == rel and n.receiver == receiver and n.status == status for n in observation.notifications):
            return  # one notification carrying several instances of this run
        observation.notifications.append(Notification(rel, receiver, status, payload, [alert]))
        for problem in problems:
            watch.event(at, f"malformed payload at {receiver}: {problem}")
        if status == "firing":
            if receiver not in watch.notified and group_notified:
                watch.event(at, f"group already notified {receiver}")
            watch.notified.add(receiver)
            if receiver not in observation.receivers:
                observation.receivers.append(receiver)
            if observation.notified_s is None:
                observation.notified_s = rel
            watch.event(at, f"notified {receiver}")
        else:
            if watch.reverted_at is not None:
                watch.resolved.add(receiver)
                if observation.resolved_notified_s is None:
                    observation.resolved_notified_s = rel
            watch.event(at, f"resolved notified {receiver}")
