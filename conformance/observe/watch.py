"""Turn what Prometheus, Alertmanager and the capture webhook show into :class:`Observation` timelines.

The vocabulary is the live verdicts' (:mod:`conformance.observe.verdict`): ``pending``, ``firing``,
``in alertmanager <set-up>``, ``suppressed <set-up>``, ``notified <set-up>/<receiver>``,
``group already notified <set-up>/<receiver>``, ``reverted``, ``resolved``, ``resolved notified <set-up>/<receiver>``;
times are seconds from the fault's injection, and events seen in the healthy period before it carry negative
times and the suffix ``(healthy cluster)``.

An alert instance belongs to the run whose predicted labels it carries (:func:`conformance.observe.attribution.claims`;
a backend first translates the prediction's names into its world's, see :func:`translate_run`). In a healthy
period an instance of a documented alert that no run claims still counts against every run of that alert, unless
a run of an earlier wave claims it (it is then the tail of that wave's fault, not noise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from conformance.model.profile import Profile
from conformance.model.run import Notification, Observation, ScenarioRun, Unsilenced
from conformance.model.scenario import describe_matcher
from conformance.observe.attribution import IGNORED_LABELS, claims, instance_key
from conformance.observe.attribution import owners as attributed
from conformance.observe.expectations import TOLERANCE_S, Expectation, qualified
from conformance.observe.payload import payload_problems
from conformance.observe.sources import AlertSources, CapturedEntry
from conformance.packs.model import Pack

HEALTHY = " (healthy cluster)"
STOPPED = "stopped firing while the fault holds"
STALE = "still active after it resolved, in alertmanager"
UNSILENCED = "documented silent for"


def translate_run(run: ScenarioRun, translate: Callable[[Mapping[str, str]], dict[str, str]]) -> ScenarioRun:
    """``run`` with its prediction's labels and its scenario's ``silent_for`` matchers in the world's names (for
    attribution and the silent_for check only)."""
    labels = tuple(translate(item) for item in run.prediction.labels)
    silent_for = tuple(translate(matcher) for matcher in run.scenario.silent_for)
    return replace(
        run,
        prediction=replace(run.prediction, labels=labels),
        scenario=replace(run.scenario, silent_for=silent_for),
    )


@dataclass
class RunWatch:
    """One scenario run being watched: its expectation, observation, and where its fault stands."""

    run: ScenarioRun  # labels in the world's names
    expectation: Expectation
    observation: Observation
    injected_at: float | None = None  # the backend's clock
    #: Seconds after the wave's faults this run's fault goes in (staggered high-availability runs), and when.
    delay_s: float = 0.0
    apply_at: float | None = None
    reverted_at: float | None = None
    revert_due: float = 0.0  # reverted by then at the latest
    hold_until: float = 0.0  # not reverted before then, even once notified (a state fault's sustain)
    done: bool = False  # nothing more to wait for
    notified: set[str] = field(default_factory=set)
    resolved: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    healthy: list[tuple[float, str]] = field(default_factory=list)  # absolute times, before the injection
    #: High availability: loss id -> the replica lost ("": it could not be); absent: not yet.
    lost: dict[str, str] = field(default_factory=dict)
    #: Until then (clock time) an alert missing from the Prometheus replicas left is not taken as stopped: after a
    #: replica is lost, the one left may evaluate up to one interval behind it (another phase).
    regrace_until: float = 0.0
    resolved_at: float | None = None  # clock time Prometheus was first seen without the alert after the revert

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

    @property
    def holding(self) -> bool:
        """The fault is in and not yet reverted."""
        return self.injected_at is not None and self.reverted_at is None

    def unsilenced(self, at: float, what: str, matcher: Mapping[str, str]) -> None:
        """An instance the scenario's ``silent_for`` forbids did ``what`` (``pending``, ``firing``, ``notified
        <receiver>``) at ``at``: recorded once per matcher and event, and shown in the timeline."""
        text = describe_matcher(matcher)
        if any((seen.event, seen.matcher) == (what, text) for seen in self.observation.unsilenced):
            return
        self.observation.unsilenced.append(Unsilenced(self.rel(at), what, text))
        self.event(at, f"{UNSILENCED} {text}: {what}")

    def injected(self, at: float) -> None:
        """The fault went in at ``at``: healthy-period events become negative times."""
        self.injected_at = at
        self.observation.timeline[:0] = [(self.rel(t), text) for t, text in self.healthy]

    def reverted(self, at: float) -> None:
        self.reverted_at = at
        self.observation.reverted_s = self.rel(at)
        self.event(at, "reverted")

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

    def settled_at(self) -> float:
        """Clock time until which a duplicate could still arrive: :attr:`Expectation.settle_s` after the last
        firing notification, and a peer timeout per extra Alertmanager replica after the last of any kind."""
        assert self.injected_at is not None
        expectation = self.expectation
        if not expectation.settle_s:
            return self.injected_at
        notifications = self.observation.notifications
        firing = max((n.at_s for n in notifications if n.status == "firing"), default=None)
        last = max((n.at_s for n in notifications), default=None)
        tail = max((r.peer_wait_s for r in expectation.receivers), default=0.0) / expectation.scale + TOLERANCE_S
        ends = [self.injected_at]
        if firing is not None:
            ends.append(self.injected_at + firing + expectation.settle_s)
        if last is not None:
            ends.append(self.injected_at + last + tail)
        return max(ends)

    def resolve_due(self) -> float:
        """Clock time by which every awaited resolved notification is overdue."""
        assert self.injected_at is not None and self.reverted_at is not None
        reverted = self.reverted_at - self.injected_at
        waiting = self.waiting_resolved()
        dues = [self.expectation.resolve_by_s(r, reverted) for r in self.expectation.receivers if r.name in waiting]
        return self.injected_at + max(dues, default=0.0)


def setup_names(profile: Profile, pack: Pack) -> dict[str, str]:
    """Pack set-up name -> the profile's routing set-up name (same form), so receivers are named as documented."""
    names = {setup.name: setup.name for setup in pack.setups}
    for documented in profile.routing:
        found = pack.setup(documented.form)
        if found is not None:
            names[found.name] = documented.name
    return names


@dataclass
class Watcher:
    """Polls one world's :class:`AlertSources` and feeds its :class:`RunWatch` es.

    ``/r/cluster/<namespace>`` is the capture path an existing cluster's capture route posts to: those
    notifications are named after the real receivers Alertmanager reports for the alert.
    """

    sources: AlertSources
    profile: Profile
    pack: Pack
    clock: Callable[[], float]
    cursor: int = 0
    groups_notified: set[tuple[str, str]] = field(default_factory=set)
    other_notifications: list[CapturedEntry] = field(default_factory=list)
    am_receivers: dict[tuple[tuple[str, str], ...], list[str]] = field(default_factory=dict)
    earlier: list[RunWatch] = field(default_factory=list)  # runs of earlier waves in this world
    judged_from: float | None = None  # notifications sent before then are not judged (a half-filled window)
    #: Every alert, documented or not, pending or firing while the world was healthy: (name, labels) -> state.
    noise: dict[tuple[str, tuple[tuple[str, str], ...]], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = setup_names(self.profile, self.pack)
        self.default_setup = self.profile.routing[0].name if self.profile.routing else "alertmanager"

    def skip_captured(self) -> None:
        """Start after what the capture webhook already holds (an earlier run's notifications)."""
        read = self.sources.captured(self.cursor)
        if read is not None:
            self.cursor = read[1]

    def poll(self, watches: Sequence[RunWatch], *, record: bool = True) -> None:
        """Read every source once and record what it shows; ``record=False`` only moves past the captures
        (a healthy warm-up whose windows are not yet full: nothing it shows is judged), but for the posts that
        carry an alert documented to fire all the time: its first notification comes as soon as the stack
        starts, which may be before the judged period, and its next one hours later."""
        if not record:
            always = [watch for watch in watches if watch.expectation.always]
            if always:
                self._captured(always, warm_up=True)
            else:
                self.skip_captured()
            return
        now = self.clock()
        self._prometheus(watches, now)
        self._alertmanager(watches, now)
        self._captured(watches)

    def owners(self, watches: Sequence[RunWatch], labels: Mapping[str, str]) -> list[RunWatch]:
        """The runs an alert instance belongs to (see the module docstring for the healthy period)."""
        found = attributed(watches, labels)
        if found:
            return found
        if any(claims(watch.run, labels) for watch in self.earlier):
            return []
        if any(watch.injected_at is not None for watch in watches):
            return []  # a fault is in: an instance no run claims is its side effect, not the healthy world's noise
        name = labels.get("alertname")
        return [watch for watch in watches if watch.run.alert.name == name]

    def _prometheus(self, watches: Sequence[RunWatch], now: float) -> None:
        alerts = self.sources.prometheus_alerts()
        if alerts is None:
            return  # not read this time; "resolved" needs a successful read that lacks the alert
        if all(watch.injected_at is None for watch in watches):
            self._noise(alerts)
        active: dict[int, str] = {}
        for labels, state in alerts:
            for watch in self.owners(watches, labels):
                if active.get(id(watch)) != "firing":
                    active[id(watch)] = state
        for labels, state in alerts:
            for watch, matcher in self.silenced(watches, labels):
                watch.unsilenced(now, state, matcher)
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
            elif current is None and observation.firing_s is not None:
                # Before the revert the fault still holds: an alert that stops then is a flap (issue 9's hole 3).
                if watch.reverted_at is not None:
                    watch.event(now, "resolved")
                    watch.resolved_at = watch.resolved_at or now
                elif now >= watch.regrace_until:
                    watch.event(now, STOPPED)

    def silenced(self, watches: Sequence[RunWatch], labels: Mapping[str, str]) -> list[tuple[RunWatch, dict[str, str]]]:
        """The runs whose fault holds and whose scenario's ``silent_for`` forbids the alert instance with
        ``labels``, each with the matcher it matched. An instance another run of this world claims is that run's
        own fault's doing (two scenarios of one alert in one wave), not this one's."""
        found: list[tuple[RunWatch, dict[str, str]]] = []
        for watch in watches:
            run = watch.run
            if not watch.holding or labels.get("alertname") != run.alert.name:
                continue
            if labels.get("severity", run.alert.severity) != run.alert.severity:
                continue
            matcher = run.scenario.silenced_by(labels)
            if matcher is None or any(other is not watch for other in self.owners(watches, labels)):
                continue
            found.append((watch, matcher))
        return found

    def _noise(self, alerts: list[tuple[dict[str, str], str]]) -> None:
        """Record what is pending or firing on the healthy world, except the tail of an earlier wave's fault."""
        for labels, state in alerts:
            if any(claims(watch.run, labels) for watch in self.earlier):
                continue
            key = (labels.get("alertname", ""), tuple(sorted(labels.items())))
            if self.noise.get(key) != "firing":
                self.noise[key] = state

    def _alertmanager(self, watches: Sequence[RunWatch], now: float) -> None:
        for setup, alerts in self.sources.alertmanager_alerts() or []:
            name = self.names.get(setup, setup) if setup is not None else self.default_setup
            for alert in alerts:
                if not isinstance(alert, dict):
                    continue
                labels = alert.get("labels") or {}
                state = (alert.get("status") or {}).get("state")
                receivers = [str(r.get("name")) for r in alert.get("receivers") or [] if isinstance(r, dict)]
                self.am_receivers[tuple(sorted(labels.items()))] = receivers
                for watch in self.owners(watches, labels):
                    if state == "suppressed":
                        watch.event(now, f"suppressed {name}")
                    elif state == "active":
                        watch.event(now, f"in alertmanager {name}")
                        if _stale(watch, now):
                            watch.event(now, f"{STALE} {name}")

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

    def _captured(self, watches: Sequence[RunWatch], *, warm_up: bool = False) -> None:
        read = self.sources.captured(self.cursor)
        if read is None:
            return
        first = self.cursor
        entries, self.cursor = read
        for index, entry in enumerate(entries, start=first):
            payload = entry.get("payload")
            if not isinstance(payload, dict):
                continue
            at = float(entry.get("at", self.clock()))
            judged = watches
            if warm_up or (self.judged_from is not None and at < self.judged_from):
                # Sent while windows were still filling: not judged, but for an alert documented to fire all the
                # time (its first notification comes as soon as the stack starts, its next one hours later).
                judged = [watch for watch in watches if watch.expectation.always]
                if not judged:
                    continue
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
                    if status == "firing" and not warm_up:
                        for watch, matcher in self.silenced(watches, labels):
                            watch.unsilenced(at, f"notified {receiver}", matcher)
                    group_notified = (receiver, group_key) in self.groups_notified
                    for watch in self.owners(judged, labels):
                        claimed = True
                        content = _content(watch.run, payload)
                        sent = Sent(at, receiver, status, index, str(entry.get("sender") or ""), content)
                        _attribute(watch, sent, payload, alert, problems, group_notified)
            for receiver in receivers_seen:
                self.groups_notified.add((receiver, group_key))
            if not claimed and not warm_up:
                self.other_notifications.append(entry)


def _stale(watch: RunWatch, now: float) -> bool:
    """Whether an Alertmanager still holding the alert as active is stale: Prometheus resolved it (after the
    revert) longer ago than it takes to send the resolved alert (a scrape, two evaluations and the tolerance),
    so this Alertmanager was not told (a Prometheus that does not send to every replica)."""
    if watch.resolved_at is None:
        return False
    expectation = watch.expectation
    grace = expectation.scrape_s + 2 * expectation.evaluation_s + TOLERANCE_S
    return now > watch.resolved_at + grace


@dataclass(frozen=True)
class Sent:
    """One captured notification as posted to one receiver: when, its status, which capture, which replica."""

    at: float
    receiver: str
    status: str
    entry: int
    sender: str = ""
    content: str = ""


def _content(run: ScenarioRun, payload: Mapping[str, Any]) -> str:
    """Every alert of a notification with its status, in one comparable string: ``run``'s alerts by their
    identifying labels (:func:`instance_key`), the others by all their labels but external ones."""
    items = []
    for alert in payload.get("alerts") or []:
        if isinstance(alert, dict):
            labels = alert.get("labels") or {}
            if claims(run, labels):
                kept = instance_key(run, labels)
            else:
                kept = ",".join(f"{k}={labels[k]}" for k in sorted(labels) if k not in IGNORED_LABELS)
            items.append(f"{alert.get('status', payload.get('status', ''))}{{{kept}}}")
    return ";".join(sorted(set(items)))


def _attribute(
    watch: RunWatch,
    sent: Sent,
    payload: dict[str, Any],
    alert: dict[str, Any],
    problems: list[str],
    group_notified: bool,
) -> None:
    """One alert of one captured notification, recorded on the run it belongs to."""
    observation = watch.observation
    at, receiver, status = sent.at, sent.receiver, sent.status
    if watch.injected_at is None:
        watch.event(at, f"notified {receiver}" if status == "firing" else f"resolved notified {receiver}")
        return
    rel = watch.rel(at)
    key = instance_key(watch.run, alert.get("labels") or {})
    for notification in observation.notifications:
        if (notification.entry, notification.receiver, notification.status) == (sent.entry, receiver, status):
            # One notification carrying several alerts of this run (or, when the keys repeat, one alert twice).
            notification.alerts.append(alert)
            notification.instances.append(key)
            return
    observation.notifications.append(
        Notification(
            rel,
            receiver,
            status,
            payload,
            [alert],
            sender=sent.sender,
            instances=[key],
            entry=sent.entry,
            content=sent.content,
        )
    )
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
