"""The twin backend: every scenario run of a profile at once, against real Prometheus and Alertmanager.

Phases, all in wall time at the time scale:

1. **start**: one *lane* per isolation group, each its own simulated cluster and its own stack. Most runs share
   the main lane (each scenario has its own target in the profile). Node faults share a second lane: a node
   going NotReady evicts and reschedules the pods of other scenarios. An alert whose rule reads ``ALERTS`` or
   ``ALERTS_FOR_STATE`` (an aggregate such as RunaiCriticalProblem) gets a lane of its own, because any other
   scenario's alert would set it off.
2. **warm-up and healthy period** (judged by the engine): depth 3 judges every fault after a healthy warm-up
   that fills the pack's longest range window. The twin backfills that warm-up into Prometheus's storage
   before starting it (:mod:`conformance.twin.backfill`), so only what cannot be backfilled is waited for in
   wall time: range windows over recorded series or ``ALERTS`` (only a running Prometheus writes those), or the
   whole window for a cluster that cannot say what Prometheus would store. Then every target is scraped and one
   full pipeline cycle of healthy cluster is judged: a documented alert pending, firing or notified fails its
   runs.
3. **fault, hold, resolution**: the shared engine (:mod:`conformance.observe.engine`) applies every run's fault
   through :class:`TwinFaults`, watches each lane's Prometheus, Alertmanagers and capture webhook through
   :class:`TwinSources`, reverts and waits for resolved notifications exactly as it does for kind and clusters.

Every fault is reverted and every process stopped in ``finally`` blocks: on failure, timeout or Ctrl-C.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

import promql_parser
import requests

from conformance.errors import BackendError, ConformanceError
from conformance.model.profile import Profile
from conformance.model.run import ReplicaLoss, ScenarioRun, StatusCallback
from conformance.model.workloads import Environment
from conformance.observe.backend import LiveOutcome, new_watches, noise_of, results_of
from conformance.observe.engine import Engine, HealthyPeriod, Lane
from conformance.observe.expectations import is_aggregate
from conformance.observe.sources import CapturedEntry
from conformance.observe.watch import RunWatch, Watcher, setup_names
from conformance.options import DEFAULT_BUDGET_MEMORY_BYTES
from conformance.packs.model import Pack, Rule
from conformance.packs.selection import select_rules
from conformance.replicas import alertmanager_replicas, prometheus_replicas
from conformance.routing.capture import Rewrite
from conformance.static.behaviour import alert_warmup_s, dependencies
from conformance.static.closure import graph_of
from conformance.static.closure import longest as closure_longest
from conformance.twin.backfill import SampledCluster
from conformance.twin.cost import WarmupEstimate, check_warmup_budget, estimate_warmup
from conformance.twin.exporter import ClusterLike
from conformance.twin.processes import install_exit_hooks
from conformance.twin.reach import Reach
from conformance.twin.scraped import choosing_names
from conformance.twin.selfscrape import jobs_selected_by, reads_own_families
from conformance.twin.stack import LOOKBACK_DELTA_S, AlertmanagerInstance, StackSettings, TwinStack

ClusterFactory = Callable[[Environment], ClusterLike]

#: Longest healthy warm-up waited for in wall time, unscaled: range windows longer than this start partly empty.
WARMUP_CAP_S = 600.0
HTTP_TIMEOUT_S = 2.0


def default_cluster_factory(environment: Environment) -> ClusterLike:
    from conformance.sim.cluster import SimulatedCluster

    cluster: ClusterLike = SimulatedCluster(environment)
    return cluster


def _get_json(url: str) -> Any:
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT_S)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError):
        return None  # a missed poll is retried at the next tick; a dead process is caught by check_alive


@dataclass
class TwinSources:
    """The :class:`~conformance.observe.sources.AlertSources` of one lane: its Prometheus, its Alertmanagers
    (one per set-up of the pack) and its capture webhook, all on loopback."""

    stack: TwinStack

    def prometheus_alerts(self) -> list[tuple[dict[str, str], str]] | None:
        """Every replica's alerts together: an alert pending or firing on any replica counts (firing first).

        A replica lost on purpose is not read; a replica that is up but did not answer makes the whole read
        None (a resolution must not be concluded from the replicas that happened to answer).
        """
        merged: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], str]] = {}
        for instance in self.stack.prometheuses:
            if instance.process.name in self.stack.lost:
                continue
            body = _get_json(f"{instance.url}/api/v1/alerts")
            if not isinstance(body, dict):
                return None
            for alert in (body.get("data") or {}).get("alerts") or []:
                if not isinstance(alert, dict):
                    continue
                labels, state = dict(alert.get("labels") or {}), str(alert.get("state"))
                key = tuple(sorted(labels.items()))
                if key not in merged or state == "firing":
                    merged[key] = (labels, state)
        return list(merged.values())

    def alertmanager_alerts(self) -> list[tuple[str | None, list[dict[str, Any]]]] | None:
        found: list[tuple[str | None, list[dict[str, Any]]]] = []
        for am in self.stack.alertmanagers:
            if am.process.name in self.stack.lost:
                continue
            body = _get_json(f"{am.url}/api/v2/alerts")
            if isinstance(body, list):
                found.append((am.setup, [a for a in body if isinstance(a, dict)]))
        return found

    def captured(self, since: int) -> tuple[list[CapturedEntry], int] | None:
        records = self.stack.capture.records()
        entries = [
            {
                "at": record.notification.at_s,
                "path": f"/r/{quote(record.setup, safe='')}/{quote(record.receiver, safe='')}",
                "payload": record.notification.payload,
                "sender": record.sender,
            }
            for record in records[since:]
        ]
        return entries, len(records)


@dataclass
class TwinLane:
    """A simulated cluster with its own stack, and the runs whose faults happen there."""

    name: str
    runs: list[ScenarioRun] = field(default_factory=list)
    stack: TwinStack | None = None
    handles: dict[str, Any] = field(default_factory=dict)  # run id -> the simulated cluster's fault handle


@dataclass
class TwinFaults:
    """The twin's :class:`~conformance.observe.engine.FaultDriver`: a fault is a state change of the lane's
    simulated cluster, applied with the timing depth 3 predicted with."""

    lanes: dict[str, TwinLane]  # run id -> its lane
    setups: dict[str, str] = field(default_factory=dict)  # the profile's routing set-up -> the pack's set-up

    def apply(self, watch: RunWatch) -> None:
        run = watch.run
        lane = self.lanes[run.id]
        assert lane.stack is not None
        try:
            with lane.stack.cluster_server.at_now() as cluster:
                lane.handles[run.id] = cluster.apply_fault(run.scenario, run.level, **run.prediction.timing())
        except (ValueError, KeyError) as error:
            raise ConformanceError(str(error)) from error
        lane.stack.rediscover()  # a target the fault took away leaves Prometheus's discovery

    def revert(self, watch: RunWatch) -> None:
        lane = self.lanes[watch.run.id]
        handle = lane.handles.pop(watch.run.id, None)
        if handle is not None and lane.stack is not None:
            with lane.stack.cluster_server.at_now() as cluster:
                cluster.revert_fault(handle)
            lane.stack.rediscover()

    def lose(self, loss: ReplicaLoss, watch: RunWatch) -> str:
        """Kill one replica of the run's lane (SIGKILL, as when its node stops responding): the first Prometheus,
        or the Alertmanager peer of the set-up that sent the run's notification (``notified``) or that would
        send first (``pending``: position 0 in the cluster, the peer that does not wait)."""
        stack = self.lanes[watch.run.id].stack
        assert stack is not None
        if loss.component == "prometheus":
            alive = [p for p in stack.prometheuses if p.process.name not in stack.lost]
            if len(alive) < 2:
                raise ConformanceError("fewer than two Prometheus replicas are running")
            stack.kill(alive[0].process)
            return alive[0].name
        setup = self.setups.get(loss.setup or "", loss.setup)
        peers = [am for am in stack.alertmanagers if am.setup == setup and am.process.name not in stack.lost]
        if len(peers) < 2:
            raise ConformanceError(f"fewer than two Alertmanager replicas of {loss.setup} are running")
        senders = [
            n.sender
            for n in watch.observation.notifications
            if n.status == "firing" and n.sender and n.receiver.startswith(f"{loss.setup}/")
        ]
        chosen = next((am for am in peers if loss.when == "notified" and senders and am.name == senders[0]), None)
        chosen = chosen or _first_position(peers)
        stack.kill(chosen.process)
        return chosen.name

    def check_alive(self) -> None:
        for lane in {id(lane): lane for lane in self.lanes.values()}.values():
            assert lane.stack is not None
            for process in lane.stack.processes:
                if not process.alive() and process.name not in lane.stack.lost:
                    raise BackendError(f"{process.name} stopped during the run:\n{process.log_tail()}")


def _first_position(peers: list[AlertmanagerInstance]) -> AlertmanagerInstance:
    """The peer at position 0 of its cluster (members sorted by name, as Alertmanager orders them): the one
    that sends without waiting a peer timeout. The first peer when the cluster cannot be read."""
    for am in peers:
        body = _get_json(f"{am.url}/api/v2/status")
        cluster = body.get("cluster") if isinstance(body, dict) else None
        if not isinstance(cluster, dict) or not cluster.get("peers"):
            continue
        names = sorted(str(peer.get("name")) for peer in cluster["peers"] if isinstance(peer, dict))
        if cluster.get("name") == names[0]:
            return am
    return peers[0]


class TwinBackend:
    """The ``twin`` :class:`~conformance.observe.backend.LiveBackend`."""

    name = "twin"
    loses_replicas = True  # runs the high-availability scenarios (conformance.replicas.ha_runs)

    def __init__(
        self,
        profile: Profile,
        pack: Pack,
        *,
        time_scale: float,
        tools: dict[str, str] | None = None,
        cluster_factory: ClusterFactory = default_cluster_factory,
        clock: Callable[[], float] = time.monotonic,
        high_availability: bool = True,
        mesh_alertmanagers: bool = True,
        budget_memory_bytes: int = DEFAULT_BUDGET_MEMORY_BYTES,
    ) -> None:
        self.profile = profile
        #: The most memory the backfilled warm-up may take, every process together (``--budget-memory``).
        self.budget_memory_bytes = budget_memory_bytes
        #: False: one Prometheus and one Alertmanager per set-up whatever the profile and pack say (to compare).
        self.high_availability = high_availability
        self.mesh_alertmanagers = mesh_alertmanagers
        self.pack = pack
        self.time_scale = time_scale
        self.tools = dict(tools or {})
        self._cluster_factory = cluster_factory
        self._clock = clock
        self._lanes: list[TwinLane] = []
        self._faults: TwinFaults | None = None
        self._watches: list[RunWatch] = []
        self._selected: list[list[Rule]] = []  # per alert run, the rules its profile entry selects
        self._read: list[Rule] = []  # those rules and every rule they read (recorded series, ALERTS)
        self.rewrites: list[Rewrite] = []
        self.logs: dict[str, str] = {}
        self.wall_s: float | None = None
        self.healthy_s = 0.0
        self.backfilled_s = 0.0  # virtual seconds of healthy warm-up backfilled before Prometheus started
        self.phases: dict[str, float] = {}  # phase name -> wall seconds it took
        self.peak_rss: dict[str, int] = {}  # child process -> peak resident bytes, read just before it stopped
        self._reach_memo: Reach | None = None
        self.warmup_estimate: WarmupEstimate | None = None  # one lane's backfill, estimated before the start
        self.backfilled_samples = 0  # samples one lane backfilled (every lane backfills the same warm-up)
        self.backfilled_runs = 0  # the runs of samples its sampled warm-up held
        self.backfill_wall_s: dict[str, float] = {}  # lane -> wall seconds of its backfill, waits included

    @property
    def lane_count(self) -> int:
        """How many lanes (each a simulated cluster with its own stack) the last run started."""
        return len(self._lanes)

    # Setup ---------------------------------------------------------------------------------------------------

    def _settings(self, label: str, *, backfill: bool) -> StackSettings:
        return StackSettings(
            scale=self.time_scale,
            scrape_s=self.profile.scrape_interval_s,
            evaluation_s=self.profile.evaluation_interval_s,
            tools=self.tools,
            label=label,
            backfill_s=self._backfill_s() if backfill else 0.0,
            backfill_reach=self._reach() if backfill else None,
            self_jobs=jobs_selected_by(self.pack) if reads_own_families(self.pack) else None,
            scraped_names=choosing_names(self._reach().names),
            **self._replicas(),
        )

    def _reach(self) -> Reach:
        """How far back the pack's rules read each metric once Prometheus runs (:mod:`conformance.twin.reach`)."""
        if self._reach_memo is None:
            self._reach_memo = Reach(self.pack, margin_s=LOOKBACK_DELTA_S + self.profile.scrape_interval_s)
        return self._reach_memo

    def _replicas(self) -> dict[str, Any]:
        """The replica settings of every lane's stack (see :mod:`conformance.replicas`)."""
        if not self.high_availability:
            return {}
        return {
            "prometheus_replicas": prometheus_replicas(self.profile, self.pack),
            "alertmanager_replicas": {s.name: alertmanager_replicas(self.profile, s) for s in self.pack.setups},
            "mesh_alertmanagers": self.mesh_alertmanagers,
            "prometheus_name": f"{self.profile.environment.monitoring_namespace}/{self.profile.name}",
        }

    def select(self, runs: Sequence[ScenarioRun]) -> None:
        """Note what the runs' alerts read: their selected rules and every rule those read, which decide how much
        healthy warm-up is backfilled and which range windows fill before the healthy period is judged."""
        alerts = {run.alert.key: run.alert for run in runs}.values()
        self._selected = [list(select_rules(self.pack, alert).rules) for alert in alerts]
        self._read = dependencies([rule for rules in self._selected for rule in rules], self.pack)

    def _backfill_s(self) -> float:
        """Virtual seconds of healthy warm-up to backfill: the longest of depth 3's warm-ups of the alerts run
        (none without range windows).

        Depth 3 warms each alert up for what its own selected rules read through their recording chain
        (:func:`conformance.static.behaviour.alert_warmup_s`); the live run backfills the longest of those, so
        every run's windows are as full as they were for its prediction, and a pack's 30-day SLO rules that no
        run reads cost nothing.
        """
        if not any(_max_range_s(rule.expr) for rule in self._read):
            return 0.0
        scrape = self.profile.scrape_interval_s
        return max((alert_warmup_s(rules, self.pack, scrape) for rules in self._selected), default=0.0)

    def _check_warmup_budget(self) -> None:
        """Refuse, before any lane starts, a backfilled warm-up the memory budget cannot hold: one line naming the
        metric, the rule and the window that cost most (:mod:`conformance.twin.cost`)."""
        backfill_s = self._backfill_s()
        cluster = self._cluster_factory(self.profile.environment)
        if backfill_s <= 0 or not isinstance(cluster, SampledCluster):
            return
        scrape = self.profile.scrape_interval_s
        cluster.advance_to(scrape)
        reach = self._reach()
        stored = cluster.stored_samples(reach.names)  # only what the rules read is backfilled
        lanes = max(1, len(self._lanes))
        self.warmup_estimate = found = estimate_warmup(stored, reach, backfill_s, scrape, lanes=lanes)
        check_warmup_budget(found, reach, backfill_s, self.budget_memory_bytes, length_why=self._warmup_reason())

    def _warmup_reason(self) -> str:
        """Why the warm-up is as long as it is: the alert whose look-back sets it, and its longest window."""
        scrape = self.profile.scrape_interval_s
        rules = max(self._selected, key=lambda rules: alert_warmup_s(rules, self.pack, scrape), default=[])
        found = closure_longest(graph_of(self.pack), rules)
        if not found.chain:
            return ""
        return f"{found.chain[0][0].alert or found.chain[0][0].record} {found.describe()}"

    def _healthy_period(self, backfilled: bool) -> HealthyPeriod:
        """The healthy period every lane is judged over once every target was scraped.

        First the range windows the runs' alerts read (through their recording chain) that are not
        ``backfilled`` fill (with a backfill, only windows over series
        Prometheus itself writes: recorded series and ``ALERTS``); alerts are not judged then, since a rate
        over a half-empty window is not the healthy value. Then one full pipeline cycle (two scrapes, two
        evaluations, group_wait) is judged: nothing documented may be pending, firing or notified. Where every
        lane was backfilled and nothing is left to fill, the windows are full from Prometheus's first
        evaluation, but the judged period still starts only two evaluations after the first live scrape of
        every target: the live clock starts where the backfill ends, before the blocks are written and
        Prometheus starts, and Prometheus applies its scrape targets only on its first 5 s reload tick, so on a
        slow start its first evaluations come after the backfill's last samples left the (scaled) look-back.
        Every instant selector is empty then, and a rule that fires on a missing series (absent(), ``or
        vector(0)``, as "disappeared from target discovery" reads) is pending although nothing is wrong.
        """
        written = {r.record for g in self.pack.groups for r in g.rules if r.record} | {"ALERTS", "ALERTS_FOR_STATE"}
        longest = max((_max_range_s(r.expr, over=written if backfilled else None) for r in self._read), default=0.0)
        profile, scale = self.profile, self.time_scale
        cycle = 2 * profile.scrape_interval_s + 2 * profile.evaluation_interval_s + 30.0
        fill = min(longest + profile.scrape_interval_s, WARMUP_CAP_S) if longest else 2 * profile.evaluation_interval_s
        # A cold start needs two scrapes for a first rate; after a backfill one live scrape continues the series.
        scrapes = 1 if backfilled else 2
        return HealthyPeriod(
            judged_s=cycle / scale,
            not_ready=lambda: self._unscraped(scrapes),
            ready_timeout_s=30.0 + 4 * profile.scrape_interval_s / scale,
            fill_s=fill / scale,
            after_ready_s=2 * profile.evaluation_interval_s / scale,
        )

    def _plan(self, runs: Sequence[ScenarioRun]) -> list[TwinLane]:
        """Isolation groups: most runs share a main lane; node faults a second; an aggregate alert a lane of its
        own. Two runs whose faults act on the same object (two alerts documented on one workload's failure) never
        share a lane: the second goes to the next lane of its kind free of that object, made when none is, as the
        Kubernetes backends put them in separate waves. The runs of one replica loss (every documented alert under
        it, :attr:`ScenarioRun.repeat`) are planned the same way in lanes of their own, apart from the other runs
        and the other losses: a replica lost hits every run of its lane."""
        lanes: list[TwinLane] = []
        families: dict[tuple[str, str], list[TwinLane]] = {}
        for run in runs:
            prefix = "twin" if not run.repeat else "twin-" + "+".join(loss.id for loss in run.losses)
            for kind in ("main", "nodes"):  # the lanes of a group in a stable order: main, then nodes
                if (prefix, kind) not in families:
                    first = TwinLane(prefix if kind == "main" else f"{prefix}-nodes")
                    families[(prefix, kind)] = [first]
                    lanes.append(first)
            if is_aggregate(self.pack, run.alert.name):
                lane = TwinLane(f"{prefix}-{len(lanes)}")
                lanes.append(lane)
            else:
                family = families[(prefix, "nodes" if run.scenario.kind.target in ("node", "cluster") else "main")]
                touched = _objects_of(run, self.profile.environment)
                free = [
                    lane
                    for lane in family
                    if not any(touched & _objects_of(other, self.profile.environment) for other in lane.runs)
                ]
                if free:
                    lane = free[0]
                else:
                    lane = TwinLane(f"{family[0].name}-{len(family) + 1}")
                    family.append(lane)
                    lanes.append(lane)
            lane.runs.append(run)
        return [lane for lane in lanes if lane.runs]

    # The run -------------------------------------------------------------------------------------------------

    def run(self, runs: Sequence[ScenarioRun], *, status: StatusCallback) -> LiveOutcome:
        """Run every scenario at once and return one result per run, in the order given."""
        started = self._clock()
        self._lanes = lanes = self._plan(runs)
        self.select(runs)
        self._faults = faults = TwinFaults(
            {run.id: lane for lane in lanes for run in lane.runs},
            {documented: pack_name for pack_name, documented in setup_names(self.profile, self.pack).items()},
        )
        self._watches = watches = new_watches(
            runs, self.profile, self.pack, self.time_scale, high_availability=self.high_availability
        )
        by_id = {watch.run.id: watch for watch in watches}
        engine = Engine(f"twin x{self.time_scale:g}", self._clock, time.sleep, self._poll_s(), status)
        watchers: list[Watcher] = []
        try:
            self._check_warmup_budget()
            self._start_lanes(lanes)
            self._phase("start", started)
            engine_lanes = []
            for lane in lanes:
                assert lane.stack is not None
                watcher = Watcher(TwinSources(lane.stack), self.profile, self.pack, self._clock)
                watchers.append(watcher)
                engine_lanes.append(Lane(lane.name, watcher, [by_id[run.id] for run in lane.runs]))
            backfilled = all(lane.stack is not None and lane.stack.backfilled_s > 0 for lane in lanes)
            self.healthy_s = engine.run_wave("", engine_lanes, faults, self._healthy_period(backfilled))
        except ConformanceError as error:
            for watch in watches:
                if watch.observation.error is None:
                    watch.observation.error = str(error)
        finally:
            self.phases.update(engine.phases)
            mark = self._clock()
            self._stop(lanes)
            self._phase("stop", mark)
        self.wall_s = self._clock() - started
        return LiveOutcome(
            backend=self.name,
            time_scale=self.time_scale,
            results=results_of(runs, watches),
            wall_s=self.wall_s,
            logs=dict(self.logs),
            rewrites=[item.describe() for item in self.rewrites],
            other_notifications=[entry for watcher in watchers for entry in watcher.other_notifications],
            noise=noise_of(watchers, self.profile),
        )

    def _start_lanes(self, lanes: list[TwinLane]) -> None:
        """Start every lane's stack side by side: each waits on its own processes and its backfill's promtool.

        Every stack is assigned to its lane before it starts, so the caller's ``finally`` stops all of them;
        on an error or Ctrl-C the pool is left only once every start has returned.
        """
        install_exit_hooks()  # on this (main) thread: workers cannot install the SIGTERM handler
        estimate = self.warmup_estimate
        slots = estimate.promtool_slots(self.budget_memory_bytes) if estimate is not None else 1
        promtool_slots = threading.Semaphore(slots)
        clusters = [self._cluster_factory(self.profile.environment) for _ in lanes]
        sampling = [isinstance(cluster, SampledCluster) for cluster in clusters]
        # Every lane that samples a warm-up waits for the others before its clock starts (see TwinStack._start).
        sampled_together = threading.Barrier(sum(sampling)) if sum(sampling) > 1 else None
        for lane, cluster, samples in zip(lanes, clusters, sampling, strict=True):
            lane.stack = TwinStack(
                cluster,
                self.pack,
                replace(self._settings(lane.name, backfill=samples), discovered_jobs=_discovered_jobs(lane.runs)),
                promtool_slots=promtool_slots,
                sampled_together=sampled_together if samples else None,
            )
        stacks = [lane.stack for lane in lanes if lane.stack is not None]
        with ThreadPoolExecutor(max_workers=max(1, len(stacks)), thread_name_prefix="twin-start") as pool:
            futures = [pool.submit(stack.start) for stack in stacks]
        for future in futures:
            future.result()  # the first start that failed raises here
        self.rewrites = list(stacks[-1].rewrites) if stacks else []
        self.backfilled_s = max((stack.backfilled_s for stack in stacks), default=0.0)
        self.backfilled_samples = max((stack.backfilled_samples for stack in stacks), default=0)
        self.backfilled_runs = max((stack.backfilled_runs for stack in stacks), default=0)
        self.backfill_wall_s = {lane.name: round(lane.stack.backfill_wall_s, 1) for lane in lanes if lane.stack}

    def _phase(self, name: str, since: float) -> None:
        self.phases[name] = round(self._clock() - since, 3)

    def _unscraped(self, scrapes: int) -> list[str]:
        """Targets not yet scraped ``scrapes`` times by their lane's Prometheus."""
        missing = []
        for lane in self._lanes:
            assert lane.stack is not None
            server = lane.stack.cluster_server
            with server.at_now():  # the clock thread changes the cluster: read it under the lock
                missing += [t.id for t in lane.stack.scraped_targets() if server.scrapes(t.id) < scrapes]
        return missing

    def _stop(self, lanes: list[TwinLane]) -> None:
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

    def _poll_s(self) -> float:
        return min(0.5, max(0.05, self.profile.evaluation_interval_s / self.time_scale / 3))

    def close(self) -> None:
        """Revert what is still applied and stop every stack. Safe to call twice."""
        try:
            if self._faults is not None:
                for watch in self._watches:
                    try:
                        self._faults.revert(watch)
                    except Exception:  # every other fault still gets its revert; the stacks still stop
                        continue
        finally:
            for lane in self._lanes:
                if lane.stack is not None:
                    lane.stack.close()


def _objects_of(run: ScenarioRun, environment: Environment) -> frozenset[str]:
    """The objects a run's fault acts on: a node, a workload (whether the fault targets it or one of its
    containers), a claim and the workload writing to it, a job, a quota, the one object a fault without a target
    changes (:attr:`FaultKind.acts_on`); none for fault ``none``. Two runs that share one
    never share a lane, as the Kubernetes backends put them in separate waves."""
    target, kind = run.scenario.target, run.scenario.kind.target
    if kind == "node":
        return frozenset({f"node/{target.node}"})
    if kind == "cluster":  # every kubelet: shares a lane with no other node fault
        return frozenset(f"node/{node.name}" for node in environment.nodes)
    if kind == "component":
        # One control plane: a stopped controller manager keeps a stopped scheduler's endpoint, so two components
        # down in one lane would change each other's discovery. Other runs may share the lane: the simulated
        # cluster schedules and replaces pods without its simulated scheduler and controller manager (kind, where
        # they are real, gives such a fault a wave of its own).
        return frozenset({"control-plane"})
    if kind in ("workload", "container"):
        return frozenset({f"workload/{target.namespace}/{target.workload}"})
    if kind == "volume":
        claim = next(
            (c for c in environment.volume_claims if (c.namespace, c.name) == (target.namespace, target.volume_claim)),
            None,
        )
        writer = {f"workload/{target.namespace}/{claim.mounted_by}"} if claim and claim.mounted_by else set()
        return frozenset({f"claim/{target.namespace}/{target.volume_claim}", *writer})
    if kind == "job":
        return frozenset({f"job/{target.namespace}/{target.job}"})
    if kind == "quota":
        return frozenset({f"quota/{target.namespace}/{target.quota}"})
    if run.scenario.kind.acts_on is not None:
        return frozenset({run.scenario.kind.acts_on})
    return frozenset()


def _discovered_jobs(runs: Sequence[ScenarioRun]) -> frozenset[str]:
    """The scrape jobs whose targets the lane's faults take out of discovery (and bring back on revert)."""
    return frozenset(
        run.scenario.component.job
        for run in runs
        if run.scenario.rejoins_discovery and run.scenario.component is not None
    )


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
