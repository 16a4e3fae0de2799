"""The twin backend: every scenario run of a profile at once, against real Prometheus and Alertmanager.

Phases, all in wall time at the time scale:

1. **start**: one *lane* per isolation group, each its own simulated cluster and its own stack. Most runs share
   the main lane (each scenario has its own target in the profile). Node faults share a second lane: a node
   going NotReady evicts and reschedules the pods of other scenarios. An alert whose rule reads ``ALERTS`` or
   ``ALERTS_FOR_STATE`` (an aggregate such as RunaiCriticalProblem) gets a lane of its own, because any other
   scenario's alert would set it off.
2. **warm-up and healthy period**: depth 3 judges every fault after a healthy warm-up that fills the pack's
   longest range window. The twin backfills that warm-up into Prometheus's storage before starting it
   (:mod:`conformance.twin.backfill`), so only what cannot be backfilled is waited for in wall time: range
   windows over recorded series or ``ALERTS`` (only a running Prometheus writes those), or the whole window
   for a cluster that cannot say what Prometheus would store. Then every target is scraped and one full
   pipeline cycle of healthy cluster is judged: a documented alert pending, firing or notified fails its runs.
3. **fault**: every run's fault applied at once; Prometheus ``/api/v1/alerts``, Alertmanager ``/api/v2/alerts``
   and the capture webhook are watched; a run's fault is reverted once every expected receiver was notified,
   or at the latest when the notification is overdue or the prediction's hold ends.
4. **resolution**: runs whose receivers send resolved notifications wait for them, bounded.

Every fault is reverted and every process stopped in ``finally`` blocks: on failure, timeout or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import promql_parser
import requests

from conformance.errors import BackendError, ConformanceError
from conformance.model.profile import Profile
from conformance.model.run import Notification, Observation, ScenarioRun, StatusCallback
from conformance.model.workloads import Environment
from conformance.observe.attribution import owners
from conformance.observe.expectations import Expectation, expectation_for, is_aggregate, qualified
from conformance.packs.model import Pack
from conformance.static.behaviour import warmup_s
from conformance.static.series import selectors_in, wanted_names
from conformance.twin.backfill import SampledCluster
from conformance.twin.capture import Captured
from conformance.twin.exporter import ClusterLike
from conformance.twin.processes import install_exit_hooks
from conformance.twin.rewrite import Rewrite
from conformance.twin.stack import StackSettings, TwinStack

ClusterFactory = Callable[[Environment], ClusterLike]

#: Longest healthy warm-up waited for in wall time, unscaled: range windows longer than this start partly empty.
WARMUP_CAP_S = 600.0
#: Shortest backfilled warm-up, unscaled: depth 3's, at least one lookback delta of healthy history.
#: How long after its deadline a run that never showed anything is given up (wall seconds).
HTTP_TIMEOUT_S = 2.0


def default_cluster_factory(environment: Environment) -> ClusterLike:
    from conformance.sim.cluster import SimulatedCluster

    cluster: ClusterLike = SimulatedCluster(environment)
    return cluster


@dataclass
class _RunState:
    run: ScenarioRun
    expectation: Expectation
    lane: _Lane
    observation: Observation
    handle: Any = None
    injected_at: float = 0.0
    reverted_at: float | None = None
    notify_deadline: float = 0.0
    revert_due: float = 0.0
    notified: set[str] = field(default_factory=set)
    resolved: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    done: bool = False

    def event(self, at: float, text: str, *, once: bool = True) -> None:
        if once and text in self.seen:
            return
        self.seen.add(text)
        self.observation.timeline.append((round(at - self.injected_at, 3), text))

    @property
    def expected(self) -> set[str]:
        return {r.name for r in self.expectation.receivers if not r.problem}


@dataclass
class _Lane:
    name: str
    runs: list[_RunState] = field(default_factory=list)
    stack: TwinStack | None = None
    setup_names: dict[str, str] = field(default_factory=dict)  # pack set-up name -> profile set-up name
    consumed: int = 0
    groups_notified: set[tuple[str, str]] = field(default_factory=set)  # (receiver, groupKey)


class TwinBackend:
    """The ``twin`` :class:`~conformance.backends.base.LiveBackend`."""

    name = "twin"

    def __init__(
        self,
        profile: Profile,
        pack: Pack,
        *,
        time_scale: float,
        tools: dict[str, str] | None = None,
        cluster_factory: ClusterFactory = default_cluster_factory,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.profile = profile
        self.pack = pack
        self.time_scale = time_scale
        self.tools = dict(tools or {})
        self._cluster_factory = cluster_factory
        self._clock = clock
        self._lanes: list[_Lane] = []
        self.rewrites: list[Rewrite] = []
        self.logs: dict[str, str] = {}
        self.other_notifications: list[Captured] = []
        self.expectations: dict[str, Expectation] = {}
        self.wall_s: float | None = None
        self.healthy_s = 0.0
        self.backfilled_s = 0.0  # virtual seconds of healthy warm-up backfilled before Prometheus started
        self.phases: dict[str, float] = {}  # phase name -> wall seconds it took
        self.peak_rss: dict[str, int] = {}  # child process -> peak resident bytes, read just before it stopped

    # Setup ---------------------------------------------------------------------------------------------------

    def _settings(self, label: str, *, backfill: bool) -> StackSettings:
        exprs = [rule.expr for group in self.pack.groups for rule in group.rules]
        return StackSettings(
            scale=self.time_scale,
            scrape_s=self.profile.scrape_interval_s,
            evaluation_s=self.profile.evaluation_interval_s,
            tools=self.tools,
            label=label,
            backfill_s=self._backfill_s() if backfill else 0.0,
            backfill_names=wanted_names(selectors_in(exprs)) if backfill else None,
        )

    def _backfill_s(self) -> float:
        """Virtual seconds of healthy warm-up to backfill: depth 3's own warm-up (none without range windows).

        Exactly depth 3's warm-up (:func:`conformance.static.behaviour.warmup_s`), so the live timing matches
        the prediction.
        """
        longest = max((_max_range_s(r.expr) for g in self.pack.groups for r in g.rules), default=0.0)
        return warmup_s(self.pack, self.profile.scrape_interval_s) if longest else 0.0

    def _warmup_s(self, backfilled: bool) -> tuple[float, float]:
        """``(fill, judged)`` wall seconds of healthy cluster once every target was scraped.

        First the range windows that are not ``backfilled`` fill (with a backfill, only windows over series
        Prometheus itself writes: recorded series and ``ALERTS``); alerts are not judged then, since a rate
        over a half-empty window is not the healthy value. Then one full pipeline cycle (two scrapes, two
        evaluations, group_wait) is judged: nothing documented may be pending, firing or notified.
        """
        written = {r.record for g in self.pack.groups for r in g.rules if r.record} | {"ALERTS", "ALERTS_FOR_STATE"}
        longest = 0.0
        for group in self.pack.groups:
            for rule in group.rules:
                longest = max(longest, _max_range_s(rule.expr, over=written if backfilled else None))
        profile = self.profile
        cycle = 2 * profile.scrape_interval_s + 2 * profile.evaluation_interval_s + 30.0
        fill = min(longest + profile.scrape_interval_s, WARMUP_CAP_S) if longest else 0.0
        return fill / self.time_scale, cycle / self.time_scale

    def _plan(self, runs: Sequence[ScenarioRun]) -> list[_Lane]:
        main = _Lane("twin")
        nodes = _Lane("twin-nodes")
        lanes = [main, nodes]
        for run in runs:
            lane = main
            if is_aggregate(self.pack, run.alert.name):
                lane = _Lane(f"twin-{len(lanes)}")
                lanes.append(lane)
            elif run.scenario.kind.target == "node":
                lane = nodes
            expectation = expectation_for(run, self.profile, self.pack, self.time_scale)
            self.expectations[run.id] = expectation
            lane.runs.append(_RunState(run, expectation, lane, Observation(run.id, fault_applied=False)))
        return [lane for lane in lanes if lane.runs]

    def _setup_names(self) -> dict[str, str]:
        names = {setup.name: setup.name for setup in self.pack.setups}
        for documented in self.profile.routing:
            found = self.pack.setup(documented.form)
            if found is not None:
                names[found.name] = documented.name
        return names

    # The run -------------------------------------------------------------------------------------------------

    def run(self, runs: Sequence[ScenarioRun], *, status: StatusCallback) -> list[Observation]:
        """Run every scenario at once and return one observation per run, in the order given."""
        started = self._clock()
        self._lanes = lanes = self._plan(runs)
        states = [state for lane in lanes for state in lane.runs]
        try:
            self._start_lanes(lanes)
            self._phase("start", started)
            mark = self._clock()
            self._warm_up(lanes, states, status)
            self._phase("warm-up and healthy period", mark)
            mark = self._clock()
            self._inject(states)
            self._watch(lanes, states, status)
            self._phase("faults", mark)
        except ConformanceError as error:
            for state in states:
                if state.observation.error is None:
                    state.observation.error = str(error)
        finally:
            try:
                self._revert_all(states)
            finally:
                mark = self._clock()
                self._stop(lanes)
                self._phase("stop", mark)
        self.wall_s = self._clock() - started
        by_id = {state.run.id: state.observation for state in states}
        return [by_id[run.id] for run in runs]

    def _start_lanes(self, lanes: list[_Lane]) -> None:
        """Start every lane's stack side by side: each waits on its own processes and its backfill's promtool.

        Every stack is assigned to its lane before it starts, so the caller's ``finally`` stops all of them;
        on an error or Ctrl-C the pool is left only once every start has returned.
        """
        install_exit_hooks()  # on this (main) thread: workers cannot install the SIGTERM handler
        for lane in lanes:
            lane.setup_names = self._setup_names()
            cluster = self._cluster_factory(self.profile.environment)
            settings = self._settings(lane.name, backfill=isinstance(cluster, SampledCluster))
            lane.stack = TwinStack(cluster, self.pack, settings)
        stacks = [lane.stack for lane in lanes if lane.stack is not None]
        with ThreadPoolExecutor(max_workers=max(1, len(stacks)), thread_name_prefix="twin-start") as pool:
            futures = [pool.submit(stack.start) for stack in stacks]
        for future in futures:
            future.result()  # the first start that failed raises here
        self.rewrites = list(stacks[-1].rewrites) if stacks else []
        self.backfilled_s = max((stack.backfilled_s for stack in stacks), default=0.0)

    def _phase(self, name: str, since: float) -> None:
        self.phases[name] = round(self._clock() - since, 3)

    def _warm_up(self, lanes: list[_Lane], states: list[_RunState], status: StatusCallback) -> None:
        """Every target scraped, range windows full, and the healthy period watched for documented alerts.

        Where every lane was backfilled and nothing is left to fill in wall time, the windows are full from
        Prometheus's first evaluation, so the judged period starts at once and overlaps the wait for the
        first live scrape (Prometheus applies its scrape targets only on its first 5 s reload tick). It
        lasts one pipeline cycle and at least two evaluations past the first live scrape of every target
        (the second on a cold start), so the live scrapes, not only the backfill, are judged healthy.
        """
        scale = self.time_scale
        backfilled = all(lane.stack is not None and lane.stack.backfilled_s > 0 for lane in lanes)
        fill, judged = self._warmup_s(backfilled)
        started = self._clock()
        deadline = started + 30.0 + 4 * self.profile.scrape_interval_s / scale
        judged_from: float | None = started if backfilled and not fill else None
        # A cold start needs two scrapes for a first rate; after a backfill one live scrape continues the series.
        scrapes = 1 if backfilled else 2
        end: float | None = None
        names = {state.run.alert.name for state in states}
        healthy_events: list[tuple[float, _RunState, str]] = []
        while end is None or self._clock() < end:
            now = self._clock()
            if end is None:
                for lane in lanes:
                    self._check_alive(lane)
                missing = self._unscraped(lanes, scrapes)
                if not missing:
                    if judged_from is None:
                        judged_from = now + fill
                    end = max(judged_from + judged, now + 2 * self.profile.evaluation_interval_s / scale)
                elif now > deadline:
                    raise BackendError(f"Prometheus did not scrape {', '.join(missing[:5])} in time")
            if judged_from is None or now < judged_from:
                line = "waiting for the first scrapes" if judged_from is None else "filling range windows"
                status(f"twin x{scale:g}: {line} {now - started:.1f}s")
                time.sleep(min(self._poll_s(), 0.1))
                continue
            self._judge_healthy(lanes, names, now, judged_from, healthy_events)
            total = (end - judged_from) if end is not None else judged
            status(f"twin x{scale:g}: healthy period {now - judged_from:.1f}/{total:.1f}s")
            time.sleep(self._poll_s())
        self.healthy_s = round(end - (judged_from if judged_from is not None else end), 3)
        self._healthy_events = healthy_events

    def _unscraped(self, lanes: list[_Lane], scrapes: int) -> list[str]:
        """Targets not yet scraped ``scrapes`` times by their lane's Prometheus."""
        missing = []
        for lane in lanes:
            assert lane.stack is not None
            server = lane.stack.cluster_server
            with server.at_now() as cluster:  # the clock thread changes the cluster: read it under the lock
                missing += [t.id for t in cluster.targets() if server.scrapes(t.id) < scrapes]
        return missing

    def _judge_healthy(
        self,
        lanes: list[_Lane],
        names: set[str],
        now: float,
        judged_from: float,
        healthy_events: list[tuple[float, _RunState, str]],
    ) -> None:
        """Record every documented alert pending, firing or notified now, on the healthy cluster."""
        for lane in lanes:
            for labels, state_name in self._prometheus_alerts(lane):
                if labels.get("alertname") in names:
                    for state in lane.runs:
                        if state.run.alert.name == labels["alertname"]:
                            healthy_events.append((now, state, f"{state_name} (healthy cluster)"))
            for captured in self._new_captures(lane):
                if captured.notification.at_s < judged_from:
                    continue  # sent for a half-filled window
                for alert in captured.notification.alerts:
                    name = (alert.get("labels") or {}).get("alertname")
                    for state in lane.runs:
                        if state.run.alert.name == name:
                            healthy_events.append((now, state, f"notified {captured.receiver} (healthy cluster)"))

    def _inject(self, states: list[_RunState]) -> None:
        now = self._clock()
        for state in states:
            state.injected_at = now
        for at, state, text in getattr(self, "_healthy_events", []):
            state.event(at, text)
        for state in states:
            lane = state.lane
            assert lane.stack is not None
            timing = _fault_timing(state.run, self.profile)
            try:
                with lane.stack.cluster_server.at_now() as cluster:
                    state.handle = cluster.apply_fault(state.run.scenario, state.run.level, **timing)
            except (ConformanceError, ValueError, KeyError) as error:
                state.observation.error = f"cannot apply {state.run.scenario.fault}: {error}"
                state.done = True
                continue
            state.observation.fault_applied = True
            expectation = state.expectation
            longest_budget = max(
                (expectation.budget_s(r, True) for r in expectation.receivers), default=expectation.scrape_s
            )
            fire = expectation.fire_s if expectation.fire_s is not None else expectation.revert_s
            state.notify_deadline = now + fire + longest_budget
            # Held until every expected notification is overdue, even past depth 3's hold: an alert whose
            # Alertmanager group had already notified waits a group_interval, and must not resolve meanwhile.
            state.revert_due = state.notify_deadline
        # A run depth 3 predicts never fires is watched as long as the others, not for its whole hold.
        predicted = [s.revert_due for s in states if s.observation.fault_applied and s.expectation.fire_s is not None]
        if predicted:
            for state in states:
                if state.expectation.fire_s is None:
                    state.revert_due = min(state.revert_due, max(predicted))
                    state.notify_deadline = state.revert_due

    def _watch(self, lanes: list[_Lane], states: list[_RunState], status: StatusCallback) -> None:
        hard_deadline = max((s.revert_due for s in states), default=self._clock())
        hard_deadline += max((self._resolve_window(s) for s in states), default=0.0) + 5.0
        while not all(state.done for state in states):
            now = self._clock()
            if now > hard_deadline:
                for state in states:
                    if not state.done:
                        state.event(now, "gave up waiting")
                break
            for lane in lanes:
                self._check_alive(lane)
                self._observe_prometheus(lane, now)
                self._observe_alertmanagers(lane, now)
                self._observe_notifications(lane)
            for state in states:
                self._advance_state(state, now)
            status(self._status_line(states, now, hard_deadline))
            time.sleep(self._poll_s())

    def _resolve_window(self, state: _RunState) -> float:
        expectation = state.expectation
        windows = [expectation.resolve_by_s(r, 0.0) for r in expectation.receivers if r.send_resolved]
        return max(windows, default=0.0)

    def _advance_state(self, state: _RunState, now: float) -> None:
        if state.done:
            return
        if state.reverted_at is None:
            all_notified = state.expected and state.expected <= state.notified
            if all_notified or now >= state.revert_due:
                self._revert(state, now)
            return
        waiting = [
            r
            for r in state.expectation.receivers
            if r.send_resolved and r.name in state.notified and r.name not in state.resolved
        ]
        due = max(
            (
                state.injected_at + state.expectation.resolve_by_s(r, state.reverted_at - state.injected_at)
                for r in waiting
            ),
            default=now,
        )
        if not waiting or now > due:
            state.done = True

    def _revert(self, state: _RunState, now: float) -> None:
        if state.handle is not None and state.reverted_at is None:
            assert state.lane.stack is not None
            try:
                with state.lane.stack.cluster_server.at_now() as cluster:
                    cluster.revert_fault(state.handle)
            finally:
                state.reverted_at = now
                state.observation.reverted_s = round(now - state.injected_at, 3)
                state.event(now, "reverted")

    def _revert_all(self, states: list[_RunState]) -> None:
        errors = []
        for state in states:
            try:
                self._revert(state, self._clock())
            except Exception as error:  # every other fault still gets its revert
                errors.append(f"{state.run.id}: {error}")
        if errors:
            raise BackendError("could not revert every fault: " + "; ".join(errors))

    def _stop(self, lanes: list[_Lane]) -> None:
        """Keep each process's log and peak memory, then stop the lanes' stacks side by side."""
        stacks = [lane.stack for lane in lanes if lane.stack is not None]
        for lane in lanes:
            if lane.stack is None:
                continue
            for name, text in lane.stack.logs().items():
                self.logs[f"{lane.name} {name}"] = text
            for process in lane.stack.processes:
                self.peak_rss[f"{lane.name} {process.name}"] = process.peak_rss_bytes() or 0
        # Each close waits for its processes to exit (Prometheus takes a second or two): in parallel, the run
        # ends when the slowest lane has stopped, not after the sum. Every close runs whatever the others do.
        with ThreadPoolExecutor(max_workers=max(1, len(stacks)), thread_name_prefix="twin-stop") as pool:
            futures = [pool.submit(stack.close) for stack in stacks]
        errors = [str(future.exception()) for future in futures if future.exception() is not None]
        if errors:
            raise BackendError("; ".join(errors))

    # Observing -----------------------------------------------------------------------------------------------

    def _poll_s(self) -> float:
        return min(0.5, max(0.05, self.profile.evaluation_interval_s / self.time_scale / 3))

    def _check_alive(self, lane: _Lane) -> None:
        assert lane.stack is not None
        for process in lane.stack.processes:
            if not process.alive():
                raise BackendError(f"{process.name} stopped during the run:\n{process.log_tail()}")

    def _get(self, url: str) -> Any:
        try:
            response = requests.get(url, timeout=HTTP_TIMEOUT_S)
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError):
            return None  # a missed poll is retried at the next tick; a dead process is caught by _check_alive

    def _prometheus_alerts(self, lane: _Lane) -> list[tuple[dict[str, str], str]]:
        assert lane.stack is not None
        body = self._get(f"{lane.stack.prometheus_url}/api/v1/alerts")
        alerts = ((body or {}).get("data") or {}).get("alerts") or []
        return [(dict(a.get("labels") or {}), str(a.get("state"))) for a in alerts if isinstance(a, dict)]

    def _observe_prometheus(self, lane: _Lane, now: float) -> None:
        active: dict[int, str] = {}
        for labels, state_name in self._prometheus_alerts(lane):
            for state in owners(lane.runs, labels):
                if active.get(id(state)) != "firing":
                    active[id(state)] = state_name
        for state in lane.runs:
            current = active.get(id(state))
            observation = state.observation
            if current == "pending":
                state.event(now, "pending")
                if observation.pending_s is None:
                    observation.pending_s = round(now - state.injected_at, 3)
            elif current == "firing":
                if observation.pending_s is None:
                    observation.pending_s = round(now - state.injected_at, 3)
                    state.event(now, "pending")
                state.event(now, "firing")
                if observation.firing_s is None:
                    observation.firing_s = round(now - state.injected_at, 3)
            elif current is None and observation.firing_s is not None and state.reverted_at is not None:
                state.event(now, "resolved")

    def _observe_alertmanagers(self, lane: _Lane, now: float) -> None:
        assert lane.stack is not None
        for am in lane.stack.alertmanagers:
            body = self._get(f"{am.url}/api/v2/alerts")
            setup = lane.setup_names.get(am.setup, am.setup)
            for alert in body if isinstance(body, list) else []:
                labels = alert.get("labels") or {}
                state_name = (alert.get("status") or {}).get("state")
                for state in owners(lane.runs, labels):
                    if state_name == "suppressed":
                        state.event(now, f"suppressed {setup}")
                    elif state_name == "active":
                        state.event(now, f"in alertmanager {setup}")

    def _new_captures(self, lane: _Lane) -> list[Captured]:
        assert lane.stack is not None
        records = lane.stack.capture.records()
        fresh = records[lane.consumed :]
        lane.consumed = len(records)
        return fresh

    def _observe_notifications(self, lane: _Lane) -> None:
        for captured in self._new_captures(lane):
            note = captured.notification
            setup = lane.setup_names.get(captured.setup, captured.setup)
            pack_setup = next((s for s in self.pack.setups if s.name == captured.setup), None)
            written = pack_setup.written_name(captured.receiver) if pack_setup else captured.receiver
            receiver = qualified(setup, written)
            group_key = str(note.payload.get("groupKey", ""))
            claimed = False
            for alert in note.alerts:
                labels = alert.get("labels") or {}
                alert_status = str(alert.get("status", note.status))
                for state in owners(lane.runs, labels):
                    claimed = True
                    self._attribute(
                        state, captured, receiver, alert, alert_status, (receiver, group_key) in lane.groups_notified
                    )
            lane.groups_notified.add((receiver, group_key))
            if not claimed:
                self.other_notifications.append(captured)

    def _attribute(
        self,
        state: _RunState,
        captured: Captured,
        receiver: str,
        alert: dict[str, Any],
        status: str,
        group_notified: bool,
    ) -> None:
        note = captured.notification
        observation = state.observation
        if any(
            n.at_s == round(note.at_s - state.injected_at, 3) and n.receiver == receiver and n.status == status
            for n in observation.notifications
        ):
            return  # the same notification carried several alert instances of this run
        at = note.at_s
        observation.notifications.append(
            Notification(round(at - state.injected_at, 3), receiver, status, note.payload, [alert])
        )
        for problem in captured.problems:
            state.event(at, f"malformed payload at {receiver}: {problem}")
        if status == "firing":
            if receiver not in state.notified and group_notified:
                state.event(at, f"group already notified {receiver}")
            state.notified.add(receiver)
            if receiver not in observation.receivers:
                observation.receivers.append(receiver)
            if observation.notified_s is None:
                observation.notified_s = round(at - state.injected_at, 3)
            state.event(at, f"notified {receiver}")
        else:
            if state.reverted_at is not None:
                state.resolved.add(receiver)
                if observation.resolved_notified_s is None:
                    observation.resolved_notified_s = round(at - state.injected_at, 3)
            state.event(at, f"resolved notified {receiver}")

    def _status_line(self, states: list[_RunState], now: float, deadline: float) -> str:
        pending = sum(1 for s in states if s.observation.pending_s is not None and s.observation.firing_s is None)
        firing = sum(1 for s in states if s.observation.firing_s is not None and s.reverted_at is None)
        notified = sum(1 for s in states if s.expected and s.expected <= s.notified)
        resolved = sum(1 for s in states if s.resolved)
        started = min((s.injected_at for s in states), default=now)
        return (
            f"twin x{self.time_scale:g}: pending {pending}, firing {firing}, notified {notified}/{len(states)}, "
            f"resolved {resolved} | {now - started:.1f}s of at most {deadline - started:.1f}s"
        )

    def close(self) -> None:
        """Revert what is still applied and stop every stack. Safe to call twice."""
        states = [state for lane in self._lanes for state in lane.runs]
        try:
            with contextlib.suppress(BackendError):
                self._revert_all(states)
        finally:
            for lane in self._lanes:
                if lane.stack is not None:
                    lane.stack.close()


def _max_range_s(expr: str, *, over: set[str] | None = None) -> float:
    """The longest range window (matrix selector or subquery) of ``expr``, in seconds.

    With ``over``, only windows over a selector of one of those metric names, or of no name at all (a name
    regex may match one of them), count.
    """
    longest = 0.0

    def reads(node: Any) -> bool:
        if over is None:
            return True
        found = False

        def visit_inner(inner: Any) -> None:
            nonlocal found
            if isinstance(inner, promql_parser.VectorSelector) and (inner.name is None or inner.name in over):
                found = True

        promql_parser.walk(node, pre_visit=visit_inner)
        return found

    def visit(node: Any) -> None:
        nonlocal longest
        if not isinstance(node, promql_parser.MatrixSelector | promql_parser.SubqueryExpr) or not node.range:
            return
        if reads(node.vector_selector if isinstance(node, promql_parser.MatrixSelector) else node.expr):
            longest = max(longest, node.range.total_seconds())

    try:
        promql_parser.walk(promql_parser.parse(expr), pre_visit=visit)
    except ValueError:
        return 0.0
    return longest


def _fault_timing(run: ScenarioRun, profile: Profile) -> dict[str, float]:
    """The fault's extra timing (a crash loop's ``over_s`` ...) exactly as depth 3 used it for its prediction.

    Taken from the run or its prediction when they carry it, else rebuilt with depth 3's own case builder:
    the live fault must unfold as the predicted one did.
    """
    for owner in (run, run.prediction):
        timing = getattr(owner, "fault_timing", None)
        if isinstance(timing, dict):
            return {str(k): float(v) for k, v in timing.items()}
    from conformance.static.cases import Timing, build_cases

    alert = run.alert
    clocks = Timing(
        scrape_s=profile.scrape_interval_s,
        evaluation_s=profile.evaluation_interval_s,
        for_s=alert.for_.seconds,
        for_documented=alert.for_.documented,
        window_s=alert.window.seconds if alert.window else 0.0,
    )
    for case in build_cases(alert, clocks, 0.0):
        if case.kind == "fire" and case.scenario.id == run.scenario.id:
            return dict(case.fault_timing)
    return {}
