"""What one live scenario run must show, in wall seconds at the run's time scale, for any live backend.

From the contract (which receiver of which routing set-up), the pack (the route it takes there, its group
timers, whether that receiver sends resolved notifications) and depth 3's prediction (time to fire, to
resolve), :func:`expectation_for` derives the window a notification must arrive in::

    earliest = predicted time-to-fire - one evaluation interval - the tolerance
               (promtool evaluates on a grid that starts at the fault; a live Prometheus evaluates at another
               phase, so a threshold crossed between two grid points is seen up to one interval sooner)
    latest   = predicted time-to-fire + scrape + evaluation + group_wait (+ group_interval if the group had
               already notified) + a small fixed tolerance for process scheduling
               (+ one more evaluation for an alert that reads ``ALERTS``: a real Prometheus evaluates rule
               groups independently, so it sees another group's alert one evaluation later than promtool)

A receiver is named ``<routing set-up>/<receiver>`` (:func:`qualified`), set-up names being the profile's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import promql_parser

from conformance.model.contract import SettingValue
from conformance.model.durations import parse_duration
from conformance.model.profile import Profile
from conformance.model.run import ScenarioRun
from conformance.packs.model import AlertmanagerSetup, Pack
from conformance.replicas import alertmanager_replicas, is_high_availability
from conformance.routing.defaults import PEER_TIMEOUT_S, ROUTE_TIMER_DEFAULTS, peer_timeout_wall_s, send_resolved_of

#: Wall seconds allowed on top of the budget for HTTP round trips and process scheduling.
TOLERANCE_S = 0.5

#: Wall seconds Prometheus may take to apply a target set its discovery changed, whatever the time scale: the
#: discovery manager sends updates on a 5 s tick (discovery/manager.go ``updatert``) and the scrape manager
#: applies them on its own 5 s reload tick (scrape/manager.go ``reloader``). A run whose fault takes targets out
#: of discovery (:attr:`Scenario.rejoins_discovery`) gets it on its firing and on its resolution.
DISCOVERY_WALL_S = 10.0


AGGREGATE_METRICS = frozenset({"ALERTS", "ALERTS_FOR_STATE"})


def _selected_metrics(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            for matcher in node.matchers.matchers:
                if matcher.name == "__name__":
                    names.add(matcher.value)

    try:
        promql_parser.walk(promql_parser.parse(expr), pre_visit=visit)
    except ValueError:
        return set()
    return names


def is_aggregate(pack: Pack, alert_name: str) -> bool:
    """Whether the pack's rule for ``alert_name`` reads other alerts (``ALERTS``/``ALERTS_FOR_STATE``)."""
    return any(_selected_metrics(rule.expr) & AGGREGATE_METRICS for rule in pack.rules_named(alert_name))


def qualified(setup: str, receiver: str) -> str:
    return f"{setup}/{receiver}"


@dataclass(frozen=True)
class ReceiverExpectation:
    """One receiver the alert must reach: its timers (unscaled seconds) and whether it sends resolved."""

    name: str  # qualified
    send_resolved: bool
    group_wait_s: float
    group_interval_s: float
    problem: str = ""  # why it cannot be reached at all (no such set-up in the pack ...)
    repeat_interval_s: float = 14400.0
    #: Alertmanager replicas of the set-up, meshed: a lost replica delays the notification by the peer timeout
    #: per position (unscaled seconds; 0 for a single Alertmanager).
    peer_wait_s: float = 0.0


@dataclass(frozen=True)
class Expectation:
    """The timing window of a run, in wall seconds from the fault's injection."""

    run_id: str
    scale: float
    fire_s: float | None
    scrape_s: float
    evaluation_s: float
    receivers: tuple[ReceiverExpectation, ...]
    revert_s: float
    resolve_delta_s: float | None  # predicted resolution after the revert
    notes: tuple[str, ...] = field(default_factory=tuple)
    # When depth 3 saw the alert resolve on its own before the revert (events leaving a range window), the
    # earliest the live run can expect it resolved, in wall seconds from the fault, whenever it reverts.
    self_resolve_s: float | None = None
    chain_s: float = 0.0  # extra evaluation for alerts built on ALERTS
    # Depth 3 proved the fault a state that keeps the alert firing: the live run holds it at least this long past
    # the predicted firing (and past the notification), and the alert must not stop meanwhile. None: a burst.
    sustain_s: float | None = None

    def hold_until_s(self) -> float | None:
        """Seconds from the fault before which the fault is not reverted, even once notified (None: no such)."""
        if self.sustain_s is None or self.fire_s is None:
            return None
        return self.fire_s + self.sustain_s

    #: High availability: wall seconds a run stays watched after its last notification, so that a duplicate
    #: (a second replica's notification, the same alert arriving again) is seen; 0 without replicas.
    settle_s: float = 0.0
    #: The scenario is documented not to raise the alert (``expect: silent``): nothing may fire or notify.
    silent: bool = False
    #: The alert is documented to fire on the healthy cluster (fault ``none``): it must be firing and have
    #: reached its receivers, whenever that was, healthy period included; there is no time-to-fire to measure.
    always: bool = False
    #: False: the alert is documented to notify nobody; it may only reach receivers in ``quiet_receivers``.
    notifies: bool = True
    #: Qualified receivers of the pack without any integration (kube-prometheus-stack's ``null``): a real
    #: Alertmanager routes to them and sends nothing, so what the capture sees there is no notification.
    quiet_receivers: frozenset[str] = frozenset()
    #: From then on (wall seconds from the fault) the fault's own mechanics may heal what the alert reads, so it may
    #: stop while the fault holds (a lost node's pods started elsewhere). None: it must not.
    heals_s: float | None = None
    #: The replica losses the run must go through (:meth:`ReplicaLoss.describe`).
    losses: tuple[str, ...] = ()
    #: Wall seconds Prometheus's discovery may add, after the fault and after the revert (:data:`DISCOVERY_WALL_S`).
    discovery_s: float = 0.0

    def earliest_notify_s(self) -> float | None:
        if self.fire_s is None:
            return None
        return self.fire_s - self.evaluation_s - TOLERANCE_S

    def latest_notify_s(self, receiver: ReceiverExpectation, group_notified: bool) -> float | None:
        if self.fire_s is None:
            return None
        budget = self.scrape_s + self.evaluation_s + self.chain_s + receiver.group_wait_s / self.scale
        budget += self.discovery_s
        budget += receiver.peer_wait_s / self.scale
        if group_notified:
            budget += receiver.group_interval_s / self.scale
        return self.fire_s + budget + TOLERANCE_S

    def budget_s(self, receiver: ReceiverExpectation, group_notified: bool) -> float:
        latest = self.latest_notify_s(receiver, group_notified)
        return 0.0 if latest is None or self.fire_s is None else latest - self.fire_s

    def resolve_by_s(self, receiver: ReceiverExpectation, reverted_s: float) -> float:
        """Latest wall second for the resolved notification, given the actual revert time."""
        delta = self.resolve_delta_s if self.resolve_delta_s is not None else self.scrape_s + 2 * self.evaluation_s
        resolved = max(reverted_s + self.discovery_s + delta, self.self_resolve_s or 0.0)
        return resolved + self.scrape_s + self.evaluation_s + receiver.group_interval_s / self.scale + TOLERANCE_S


def route_timers(config: Mapping[str, Any], path: tuple[int, ...]) -> tuple[float, float]:
    """``(group_wait, group_interval)`` in seconds of the route at ``path``, inherited as Alertmanager does."""
    timers = _inherited_timers(config, path)
    return timers["group_wait"], timers["group_interval"]


def _inherited_timers(config: Mapping[str, Any], path: tuple[int, ...]) -> dict[str, float]:
    """Every group timer of the route at ``path``, in seconds: each child's own, else its parent's."""
    node: Mapping[str, Any] = config.get("route") or {}
    timers = {key: parse_duration(node.get(key, default)) for key, default in ROUTE_TIMER_DEFAULTS.items()}
    for index in path:
        children = node.get("routes") or []
        if index >= len(children):
            break
        node = children[index]
        for key in timers:
            if key in node:
                timers[key] = parse_duration(node[key])
    return timers


def _max_timers(config: Mapping[str, Any]) -> tuple[float, float]:
    """The longest group timers anywhere in the tree (used when the route cannot be worked out)."""
    waits: list[float] = []
    intervals: list[float] = []

    def visit(node: Mapping[str, Any], wait: float, interval: float) -> None:
        wait = parse_duration(node.get("group_wait", wait)) if "group_wait" in node else wait
        interval = parse_duration(node["group_interval"]) if "group_interval" in node else interval
        waits.append(wait)
        intervals.append(interval)
        for child in node.get("routes") or []:
            visit(child, wait, interval)

    visit(config.get("route") or {}, 30.0, 300.0)
    return max(waits), max(intervals)


def pack_setup_for(pack: Pack, profile: Profile, setup_name: str) -> AlertmanagerSetup | None:
    """The pack's Alertmanager set-up for the profile's routing set-up: same form (as depth 4), else same name."""
    try:
        form = profile.setup(setup_name).form
    except KeyError:
        form = None
    if form is not None:
        found = pack.setup(form)
        if found is not None:
            return found
    return next((setup for setup in pack.setups if setup.name == setup_name), None)


def receiver_expectation(
    setup_name: str,
    receiver: str,
    pack_setup: AlertmanagerSetup | None,
    labels: Mapping[str, str] | None,
    documented: Mapping[str, SettingValue] | None = None,
    replicas: int = 1,
    peer_timeout_s: float = PEER_TIMEOUT_S,
) -> ReceiverExpectation:
    """What reaching ``receiver`` takes: the pack's timers on the alert's route and its ``send_resolved``, except
    where the document states them (``documented``): then the document's, so a pack that waits an hour where the
    vendor promises 30 s notifies late live, and one that drops resolved notifications misses them."""
    name = qualified(setup_name, receiver)
    if pack_setup is None:
        return ReceiverExpectation(name, False, 30.0, 300.0, f"the pack has no Alertmanager set-up for {setup_name}")
    from conformance.routing.tree import route_alert

    config = pack_setup.config
    generated = pack_setup.generated_name(receiver)
    definitions = [r for r in config.get("receivers") or [] if isinstance(r, dict) and r.get("name") == generated]
    resolved = send_resolved_of(definitions[0])[0] if definitions else False
    wait, interval = _max_timers(config)
    repeat = parse_duration(ROUTE_TIMER_DEFAULTS["repeat_interval"])
    if labels is not None:
        matches = [m for m in route_alert(config, labels) if m.receiver == generated]
        if matches:
            wait, interval = route_timers(config, matches[0].path)
            repeat = route_timer(config, matches[0].path, "repeat_interval")
    documented = documented or {}
    wait = _seconds(documented.get("group_wait"), wait)
    interval = _seconds(documented.get("group_interval"), interval)
    repeat = _seconds(documented.get("repeat_interval"), repeat)
    if isinstance(documented.get("send_resolved"), bool):
        resolved = bool(documented["send_resolved"])
    peer_wait = peer_timeout_s * (replicas - 1)
    return ReceiverExpectation(name, resolved, wait, interval, repeat_interval_s=repeat, peer_wait_s=peer_wait)


def quiet_receivers(profile: Profile, pack: Pack) -> frozenset[str]:
    """Every receiver, qualified by the profile's set-up name, that the pack defines without any integration."""
    quiet: set[str] = set()
    for routing in profile.routing:
        pack_setup = pack_setup_for(pack, profile, routing.name)
        if pack_setup is None:
            continue
        for definition in pack_setup.config.get("receivers") or []:
            if isinstance(definition, dict) and not send_resolved_of(definition)[1]:
                quiet.add(qualified(routing.name, pack_setup.written_name(str(definition.get("name")))))
    return frozenset(quiet)


def _seconds(value: SettingValue | None, default: float) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _documented(profile: Profile, setup_name: str) -> dict[str, SettingValue]:
    try:
        return profile.setup(setup_name).documented_settings()
    except KeyError:
        return {}


def route_timer(config: Mapping[str, Any], path: tuple[int, ...], key: str) -> float:
    """One group timer (``repeat_interval`` ...) of the route at ``path``, in seconds, inherited."""
    return _inherited_timers(config, path)[key]


def expectation_for(
    run: ScenarioRun, profile: Profile, pack: Pack, scale: float, *, high_availability: bool = True
) -> Expectation:
    """The window :mod:`conformance.observe.verdict` judges ``run`` against (see the module docstring).

    With ``high_availability`` the replicas the profile and pack set (:mod:`conformance.replicas`) widen the
    budget by the Alertmanager peer timeout per extra replica, and keep the run watched for duplicates.
    """
    prediction = run.prediction
    labels = dict(prediction.labels[0]) if prediction.labels else None
    receivers = []
    for setup, receiver in sorted(run.alert.receivers.items()):
        pack_setup = pack_setup_for(pack, profile, setup)
        replicas = alertmanager_replicas(profile, pack_setup) if pack_setup and high_availability else 1
        # The twin's peer timeout in the unscaled seconds of the other timers (it has a floor in wall seconds).
        peer_timeout = peer_timeout_wall_s(scale) * scale
        receivers.append(
            receiver_expectation(
                setup, receiver, pack_setup, labels, _documented(profile, setup), replicas, peer_timeout
            )
        )
    settle = 0.0
    if high_availability and is_high_availability(profile, pack):
        # A duplicate shows at the latest one group_interval after the first notification (a second alert
        # joining the group), or a peer timeout per extra replica (a peer that did not see the first sent).
        settle = max((r.group_interval_s + r.peer_wait_s for r in receivers), default=0.0) / scale + TOLERANCE_S
    resolve_delta = None
    self_resolve = None
    if prediction.resolved_after_s is not None:
        resolve_delta = max(prediction.resolved_after_s - prediction.revert_after_s, 0.0) / scale
        if prediction.resolved_after_s <= prediction.revert_after_s:
            self_resolve = prediction.resolved_after_s / scale
    return Expectation(
        run_id=run.id,
        scale=scale,
        # A silent scenario expects nothing, whatever depth 3 saw (a pack firing there already failed depth 3).
        fire_s=None if prediction.fire_after_s is None or run.scenario.silent else prediction.fire_after_s / scale,
        scrape_s=prediction.scrape_interval_s / scale,
        evaluation_s=prediction.evaluation_interval_s / scale,
        receivers=tuple(receivers),
        revert_s=prediction.revert_after_s / scale,
        resolve_delta_s=resolve_delta,
        self_resolve_s=self_resolve,
        chain_s=prediction.evaluation_interval_s / scale if is_aggregate(pack, run.alert.name) else 0.0,
        sustain_s=None if prediction.sustain_s is None or run.scenario.silent else prediction.sustain_s / scale,
        settle_s=settle,
        silent=run.scenario.silent,
        always=run.scenario.always,
        notifies=run.alert.notifies,
        quiet_receivers=quiet_receivers(profile, pack),
        losses=tuple(loss.describe() for loss in run.losses),
        heals_s=None if prediction.heals_after_s is None else prediction.heals_after_s / scale,
        discovery_s=DISCOVERY_WALL_S if run.scenario.rejoins_discovery else 0.0,
    )
