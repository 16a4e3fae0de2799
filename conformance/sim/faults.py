"""The fault vocabulary acting on the simulated cluster, each with its undo.

Levels mean exactly this (the static depth derives them from documented thresholds):

* ``crash-loop``: N restarts (whole number). The container exits and the kubelet restarts it: the first exit at
  once, every later one after its back-off (10 s doubling to 300 s, see :mod:`conformance.sim.backoff`);
  ``over_s`` spreads the N restarts evenly over that many seconds (default 0: as fast as the back-off allows).
  Scenario param ``run_seconds``: how long each run lasts before exiting (default 0); ``pods``: ``all`` (default)
  or ``one``. While it waits: ``CrashLoopBackOff``, not ready, last terminated reason ``Error``. Revert: no
  further crash (a pending restart still happens, then it runs fine).
* ``crash-loop-backoff``: no level; the same crashing container held as a state until the revert, the restart
  count following from the back-off alone (alerts on ``waiting_reason="CrashLoopBackOff"`` over a duration).
* ``unavailable-replicas``: this many pods (>= replicas: all) fail their readiness probe. They stay
  *Running but not ready*: that is what a failing readiness probe does, it keeps the desired count, the pods,
  their containers and their cAdvisor series, and it is the one cause that works the same for Deployments,
  StatefulSets and DaemonSets (an unsatisfiable selector would empty cAdvisor and cannot target a DaemonSet).
* ``stuck-rollout``: a new revision whose image cannot be pulled (``ImagePullBackOff``). Deployment: the new
  ReplicaSet gets maxSurge + maxUnavailable pods, the old one loses maxUnavailable (25% each, rounded up and
  down), Progressing turns false (``ProgressDeadlineExceeded``) after 600 s. StatefulSet: the highest ordinal
  is replaced, current_revision != update_revision. DaemonSet: one pod is replaced. Revert: rollout undo.
* ``fill-volume``: available/capacity ratio after filling (available is what a non-root writer may still use:
  ext4 keeps 5 % for root, so at most 0.95); ``fill_s`` (default 0) makes the fill linear.
* ``cordon-node``; ``node-not-ready`` (param ``ready_status``: ``unknown`` default or ``false``). 300 s after
  the NoExecute taint the pods are deleted; an unreachable node's kubelet cannot confirm it, so they stay
  Terminating: a Deployment's ReplicaSet replaces them elsewhere, a StatefulSet's pod is not replaced until the
  node is back, DaemonSet pods tolerate the taint and stay as they are.
* ``memory-near-limit`` (working set / limit, ``ramp_s``; a level of 1 or more is demand past the limit: the
  kernel OOM-kills the container when its working set reaches the limit, ``OOMKilled`` exit code 137, restarted
  with the back-off, and every run climbs again until the revert), ``cpu-near-limit`` (CPU use / limit),
  ``node-memory-pressure`` (1 - MemAvailable/MemTotal, ``ramp_s``).
* ``control-plane-down`` (target ``component``): the component stops on every control-plane node (kubeadm:
  its static pod's manifest moved out of ``/etc/kubernetes/manifests``). The scheduler leaves Prometheus's
  discovery at once (the kubelet deletes its mirror pod, the controller manager's endpoint controllers drop it
  from the chart's Service; the real delay is in :data:`DELAYS`), so ``up{job="kube-scheduler"}`` is absent from
  the next scrape (a staleness marker). The controller manager stays discovered with ``up`` 0: it runs those
  endpoint controllers, so with every instance stopped its Service keeps the endpoint (and a scheduler stopped
  meanwhile stays too). The API server stays discovered with ``up`` 0: Prometheus discovers every target through
  it, and its Kubernetes discovery keeps the last target set while the API cannot be reached. Not simulated of a
  stopped API server: the scheduler and controller manager losing their leader leases (they exit and are
  restarted, then wait for the lease), and kube-state-metrics serving its last cached state (what it does anyway).
* ``kubelets-down`` (no target): every node's kubelet stops, as ``node-not-ready`` (unknown) on each node at
  once: Ready=Unknown after the grace, the kubelets' targets (``/metrics``, cAdvisor, probes) stay discovered
  with ``up`` 0 (the Node objects and so the kubelet Service's endpoints remain). With no node Ready, the node
  lifecycle controller enters "master disruption mode": it removes the NoExecute taints and stops evicting
  (pkg/controller/nodelifecycle ``handleDisruption``), so no pod is marked for deletion; the NoSchedule
  unreachable taint stays. Static pods and every other container keep running.
* ``fail-job``; ``target-down``; ``error-rate`` (share answering 500); ``latency`` (the q-quantile in seconds,
  param ``quantile`` default 0.95); ``metric-rate-drop`` and ``error-counter`` (param ``metric``: a declared
  vendor counter's growth per second, per pod); ``network-flood`` (bytes/s transmitted, summed over the
  workload's pods); ``kill-pods``.
* ``hpa-maxed``: the autoscaler's maxReplicas lowered to the replicas its workload runs (current == max, max !=
  min); revert restores it. ``quota-usage``: used/hard of one resource (param ``resource``), by lowering the hard
  limit (on the resource's step: millicores, bytes, whole pods); above 1 the quota is below what is used.
  ``pdb-unsatisfiable``: the budget's minAvailable set to replicas + 1, so desired healthy > current healthy.
* ``fill-node-filesystem``: node-exporter's avail_bytes/size_bytes of the node's root filesystem (ext4: avail is
  f_bavail, what a non-root writer may still use, free is f_bfree with root's 5 % reserve, so at most 0.95);
  ``fill_s`` (default 0) makes the fill linear, so alerts on predict_linear see a trend.
* ``clock-drift``: the clock's offset in seconds (node_timex_offset_seconds), held; param ``synchronised``
  (``true`` default, ``false``: sync status 0 and the kernel's maximum error growing 500 us/s to 16 s, see
  :class:`conformance.sim.state.ClockFault`). No level: the offset stays healthy.

A scenario with ``spread`` applies a shareable fault (:attr:`FaultKind.shareable`) to its target and each
spread object with an equal share of the level: the total is the level, no object carries it alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from conformance.model.scenario import (
    CONTROL_PLANE_COMPONENTS,
    FAULT_KINDS,
    NO_FAULT,
    Scenario,
    fault_job_name,
    injected_name,
    param_value,
    share_levels,
)
from conformance.model.workloads import unsatisfiable_min_available
from conformance.quantities import lowered_hard
from conformance.sim import policies
from conformance.sim.backoff import (
    BACKOFF_INITIAL_S,
    BACKOFF_MAX_S,
    BACKOFF_RESET_S,
    OOM_EXIT_CODE,
    BackoffEntry,
    CrashSchedule,
    crash_schedule,
    held_crash_schedule,
)
from conformance.sim.families import control_plane, ksm_self
from conformance.sim.families.cadvisor import usage_for_throttled_share
from conformance.sim.latency import latency_model
from conformance.sim.policies import quota_release_at
from conformance.sim.state import (
    EVICTION_TOLERATION_S,
    EXT4_RESERVED_SHARE,
    MAX_PHASE_S,
    MAXERROR_GROWTH_PER_S,
    NODE_MONITOR_GRACE_S,
    NTP_PHASE_LIMIT_S,
    POD_READY_S,
    PROGRESS_DEADLINE_S,
    ClaimState,
    ClockFault,
    ContainerState,
    JobRun,
    NodeState,
    OomRun,
    PodState,
    Ramp,
    Termination,
    VolumeState,
    WorkloadState,
    maxerror_climb_s,
)

if TYPE_CHECKING:
    from conformance.model.workloads import JobSpec
    from conformance.sim.cluster import SimulatedCluster


@dataclass(frozen=True)
class BuiltInDelay:
    """A Kubernetes delay inside a fault: what waits, how long (seconds), and whether the state an alert reads
    waits for it (then depth 3 adds it to the latest acceptable time-to-fire)."""

    name: str
    seconds: float
    what: str
    delays_state: bool = True
    #: (param, value): the delay applies only to scenarios whose parameter has that value (None: always).
    when: tuple[str, str] | None = None

    def applies(self, scenario: Scenario | None) -> bool:
        if self.when is None or scenario is None:
            return self.when is None
        name, value = self.when
        return str(param_value(scenario, name)).lower() == value


_POD_READY = BuiltInDelay(
    "pod ready", POD_READY_S, "a recreated pod's readiness probe first passes this long after it is created", False
)

#: Each fault's built-in delays, from the constants the simulated cluster runs on.
DELAYS: dict[str, tuple[BuiltInDelay, ...]] = {
    "crash-loop": (
        BuiltInDelay(
            "back-off",
            BACKOFF_INITIAL_S,
            f"the kubelet restarts an exited container at once the first time, then after {BACKOFF_INITIAL_S:g}s, "
            f"doubling per restart up to {BACKOFF_MAX_S:g}s; an exit after more than {BACKOFF_RESET_S:g}s of "
            "running fine starts over (restarted at once); restarts asked for faster come as soon as it allows",
            False,
        ),
    ),
    "crash-loop-backoff": (
        BuiltInDelay(
            "back-off",
            BACKOFF_INITIAL_S,
            f"restarted at once after the first exit, CrashLoopBackOff from the second exit on: {BACKOFF_INITIAL_S:g}s "
            f"doubling to {BACKOFF_MAX_S:g}s between restarts for as long as the fault holds",
        ),
    ),
    "stuck-rollout": (
        BuiltInDelay(
            "progress deadline",
            PROGRESS_DEADLINE_S,
            "a Deployment's Progressing condition turns False (ProgressDeadlineExceeded) this long after the "
            "rollout starts; its new pods wait in ImagePullBackOff from the start",
        ),
    ),
    "node-not-ready": (
        BuiltInDelay(
            "node monitor grace",
            NODE_MONITOR_GRACE_S,
            "with ready_status unknown, Ready turns Unknown and the unreachable taint is added this long after the "
            "kubelet stops (ready_status false: at once)",
        ),
        BuiltInDelay(
            "eviction toleration",
            EVICTION_TOLERATION_S,
            "pods on the node are deleted this long after the taint; with the kubelet silent they stay Terminating "
            "(a Deployment replaces them elsewhere, a StatefulSet does not until the node is back); DaemonSet pods "
            "stay",
            False,
        ),
    ),
    "kill-pods": (_POD_READY,),
    "ksm-list-errors": (
        BuiltInDelay(
            "watch timeout",
            2 * ksm_self.MIN_WATCH_TIMEOUT_S,
            "the reflector's open watch keeps streaming until the API server ends it (5 to 10 minutes after it "
            f"started); only then is a request refused. The simulated cluster ends it {ksm_self.WATCH_RESIDUAL_S:g}s "
            "after the fault",
        ),
        BuiltInDelay(
            "list back-off",
            ksm_self.capped_wait(),
            "each refused List is retried after client-go's back-off: 800ms doubling to 30s, jittered up to twice "
            f"that ({ksm_self.capped_wait():g}s on average once capped)",
            False,
        ),
    ),
    "control-plane-down": (
        BuiltInDelay(
            "leaves discovery",
            5.0,
            "a scheduler leaves Prometheus's discovery a few seconds after its manifest moves: the kubelet stops "
            "the static pod and deletes its mirror pod at its next housekeeping (every 2s), and the controller "
            "manager drops the endpoint (the simulated cluster drops the target at once; Prometheus's own "
            "discovery timers are allowed for live)",
        ),
    ),
    "kubelets-down": (
        BuiltInDelay(
            "node monitor grace",
            NODE_MONITOR_GRACE_S,
            "every node turns Ready=Unknown this long after its kubelet stops; the kubelets' targets are down at once",
        ),
    ),
    "clock-drift": (
        BuiltInDelay(
            "maximum error climb",
            maxerror_climb_s(),
            f"with synchronised false, the kernel's maximum error grows {MAXERROR_GROWTH_PER_S * 1e6:g}us per second "
            f"(MAXFREQ, kernel/time/ntp.c second_overflow) from the ~10ms an NTP daemon left it at, and reaches "
            f"{NTP_PHASE_LIMIT_S:g}s (NTP_PHASE_LIMIT) only this long after the daemon stopped updating it",
            when=("synchronised", "false"),
        ),
    ),
}


def intrinsic_delay_s(fault: str, scenario: Scenario | None = None) -> float:
    """How long the fault's own Kubernetes (or kernel) mechanics may hold back the state an alert reads; a delay
    that depends on a parameter counts only for a ``scenario`` that sets it so."""
    return max(
        (delay.seconds for delay in DELAYS.get(fault, ()) if delay.delays_state and delay.applies(scenario)),
        default=0.0,
    )


TIMING_KEYWORDS: dict[str, frozenset[str]] = {
    "crash-loop": frozenset({"over_s"}),
    "fill-volume": frozenset({"fill_s"}),
    "memory-near-limit": frozenset({"ramp_s"}),
    "node-memory-pressure": frozenset({"ramp_s"}),
    "fill-node-filesystem": frozenset({"fill_s"}),
}
"""The timing keyword arguments each fault accepts (seconds); any other raises TypeError."""


@dataclass(eq=False)
class FaultHandle:
    """One applied fault. ``effective_level`` is what the cluster could really do (see ``notes`` if it differs)."""

    id: int
    scenario: Scenario
    level: float | None
    timing: Mapping[str, float]
    applied_at: float
    effective_level: float | None = None
    notes: list[str] = field(default_factory=list)
    reverted_at: float | None = None
    _undo: Callable[[], None] | None = field(default=None, repr=False)

    def undo(self) -> None:
        if self._undo is not None:
            self._undo()

    def describe(self) -> str:
        level = "" if self.level is None else f" at {self.level:g}"
        return f"{self.scenario.fault}{level} on {self.scenario.target.describe()}"


def apply(
    cluster: SimulatedCluster, handle_id: int, scenario: Scenario, level: float | None, timing: Mapping[str, float]
) -> FaultHandle:
    """Check the fault's level and timing, apply it now and return its handle."""
    kind = FAULT_KINDS.get(scenario.fault)
    if kind is None:
        raise ValueError(f"scenario {scenario.id}: unknown fault {scenario.fault!r}; known: {sorted(FAULT_KINDS)}")
    allowed = TIMING_KEYWORDS.get(kind.name, frozenset())
    unknown = sorted(set(timing) - allowed)
    if unknown:
        raise TypeError(
            f"fault {kind.name} got unknown timing argument(s) {unknown}; it accepts {sorted(allowed) or 'none'}"
        )
    for name, value in timing.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value) or value < 0:
            raise ValueError(
                f"fault {kind.name}: timing {name} must be a non-negative number of seconds, got {value!r}"
            )
    if kind.quantity is None and level is not None:
        raise ValueError(f"fault {kind.name} takes no level, got {level!r}")
    if kind.quantity is not None and not (kind.level_optional and level is None):
        if level is None or isinstance(level, bool) or math.isnan(float(level)):
            raise ValueError(f"fault {kind.name} needs a level ({kind.quantity}), got {level!r}")
        if level < 0:
            raise ValueError(f"fault {kind.name}: level must not be negative, got {level}")
        if kind.integer and float(level) != int(level):
            raise ValueError(f"fault {kind.name}: level must be a whole number ({kind.quantity}), got {level}")
    handle = FaultHandle(
        id=handle_id,
        scenario=scenario,
        level=level,
        timing=dict(timing),
        applied_at=cluster.now,
        effective_level=level,
    )
    handle._undo = _spread(cluster, handle) if scenario.spread else _APPLIERS[kind.name](cluster, handle)
    return handle


def _spread(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    """The fault on every object of the scenario's spread, each with its share of the level; one undo for all."""
    scenario = handle.scenario
    kind = scenario.kind
    if not kind.shareable:
        raise ValueError(f"scenario {scenario.id}: fault {kind.name} cannot be spread over several objects")
    targets = scenario.targets
    undos: list[Callable[[], None]] = []
    effective = 0.0
    for target, share in zip(
        targets, share_levels(float(handle.level or 0.0), len(targets), kind.integer), strict=True
    ):
        part = FaultHandle(
            handle.id,
            replace(scenario, target=target, spread=()),
            share,
            handle.timing,
            handle.applied_at,
            effective_level=share,
        )
        undos.append(_APPLIERS[kind.name](cluster, part))
        handle.notes.extend(part.notes)
        effective += part.effective_level or 0.0

    def undo() -> None:
        for part_undo in reversed(undos):
            part_undo()

    handle.effective_level = effective
    return undo


# ---------------------------------------------------------------------- targets


def _workload(cluster: SimulatedCluster, scenario: Scenario) -> WorkloadState:
    target = scenario.target
    if not target.workload:
        raise ValueError(f"scenario {scenario.id}: fault {scenario.fault} needs target.workload")
    return cluster.find_workload(target.namespace, target.workload)


def _containers(cluster: SimulatedCluster, scenario: Scenario) -> list[tuple[PodState, ContainerState]]:
    workload = _workload(cluster, scenario)
    name = scenario.target.container or workload.spec.containers[0].name
    if name not in {c.name for c in workload.spec.containers}:
        raise ValueError(
            f"scenario {scenario.id}: workload {workload.namespace}/{workload.name} has no container {name!r}"
        )
    pods = [p for p in cluster.pods_of(workload) if p.deleting_since is None]
    if str(param_value(scenario, "pods")) == "one":
        pods = pods[:1]
    return [(pod, c) for pod in pods for c in pod.containers if c.name == name]


def _node(cluster: SimulatedCluster, scenario: Scenario) -> NodeState:
    name = scenario.target.node
    if not name or name not in cluster.nodes:
        raise ValueError(
            f"scenario {scenario.id}: fault {scenario.fault} needs target.node naming one of {sorted(cluster.nodes)}"
        )
    return cluster.nodes[name]


def _ratio(scenario: Scenario, level: float | None, *, upper: float = 1.0) -> float:
    assert level is not None
    if level > upper:
        raise ValueError(f"scenario {scenario.id}: {scenario.fault} level must be at most {upper}, got {level}")
    return float(level)


# ---------------------------------------------------------------------- the faults


def _fold_crash_history(
    container: ContainerState, now: float
) -> tuple[float, CrashSchedule | None, BackoffEntry | None]:
    """Fold an earlier loop on ``container`` into its history, so that a new loop can follow it.

    Returns when the new loop may start (a restart the earlier loop still owes happens first), that pending
    crash/restart pair if any, and the kubelet's back-off entry the new loop goes on from.
    """
    if container.crash is None:
        return now, None, None
    kept = container.crash.truncated(now)
    container.crash = None
    entry = kept.last_entry()
    owed = bool(kept.restarts) and kept.restarts[-1] > now
    done = len(kept.restarts) - 1 if owed else len(kept.restarts)
    pending = (
        CrashSchedule(kept.crashes[done:], kept.restarts[done:], kept.entries[done:], kept.reason, kept.exit_code)
        if owed
        else None
    )
    container.restart_base += done
    if done:
        container.terminated_before = Termination(kept.reason, kept.crashes[done - 1], kept.exit_code)
    return (pending.restarts[0] if pending else now), pending, entry


def _follow(pending: CrashSchedule | None, loop: CrashSchedule) -> CrashSchedule:
    """``loop`` after the restart an earlier loop still owes (reported with the new loop's reason)."""
    if pending is None:
        return loop
    return replace(pending, reason=loop.reason, exit_code=loop.exit_code).joined(loop)


def _crash_loop(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    scenario = handle.scenario
    restarts = int(handle.level or 0)
    over_s = float(handle.timing.get("over_s", 0.0))
    run_s = float(param_value(scenario, "run_seconds") or 0.0)
    now = cluster.now
    touched: list[ContainerState] = []
    for _pod, container in _containers(cluster, scenario):
        start, pending, entry = _fold_crash_history(container, now)
        loop = crash_schedule(start, restarts, over_s=over_s, run_s=run_s, entry=entry)
        container.crash = _follow(pending, loop)
        for moment in container.crash.change_times():
            cluster.breakpoint(moment)
        touched.append(container)
    if over_s > 0 and touched:
        done = touched[0].crash.restarts_by(now + over_s) if touched[0].crash else 0
        if done < restarts:
            handle.notes.append(
                f"the kubelet's back-off allows only {done} of {restarts} restarts within {over_s:g}s; "
                "the rest follow as soon as it allows"
            )

    def undo() -> None:
        for container in touched:
            if container.crash is not None:
                container.crash = container.crash.truncated(cluster.now)

    return undo


# A held crash loop's schedule is laid out this far ahead, and extended by as much whenever time gets there.
HOLD_CHUNK_S = 3600.0


def _hold_crash_loop(
    cluster: SimulatedCluster,
    handle: FaultHandle,
    containers: list[ContainerState],
    *,
    first_run_s: Callable[[ContainerState], float],
    run_s: Callable[[ContainerState], float],
    reason: str,
    exit_code: int,
) -> None:
    """Keep ``containers`` exiting (``first_run_s`` after the fault, then ``run_s`` after every start) until the
    fault is reverted; the kubelet's back-off alone decides when each restart comes."""
    now = cluster.now
    mine: dict[int, CrashSchedule] = {}
    next_crash: dict[int, float] = {}
    entries: dict[int, BackoffEntry | None] = {}

    def lay_out(
        container: ContainerState, first: float, until: float, before: CrashSchedule | None, entry: BackoffEntry | None
    ) -> None:
        run = run_s(container)
        more = held_crash_schedule(first, until, run_s=run, entry=entry, reason=reason, exit_code=exit_code)
        container.crash = more if before is None else before.joined(more)
        mine[id(container)] = container.crash
        next_crash[id(container)] = more.restarts[-1] + run if more.restarts else first
        entries[id(container)] = more.last_entry() or entry
        for moment in more.change_times():
            cluster.breakpoint(moment)

    for container in containers:
        start, pending, entry = _fold_crash_history(container, now)
        before = replace(pending, reason=reason, exit_code=exit_code) if pending is not None else None
        lay_out(container, start + first_run_s(container), now + HOLD_CHUNK_S, before, entry)

    def extend(until: float) -> None:
        if handle.reverted_at is not None:
            return
        for container in containers:
            crash = container.crash
            if crash is None or crash is not mine.get(id(container)):
                continue  # a later fault took the container over
            lay_out(container, next_crash[id(container)], until + HOLD_CHUNK_S, crash, entries[id(container)])
        cluster.breakpoint(until + HOLD_CHUNK_S, lambda: extend(until + HOLD_CHUNK_S))

    cluster.breakpoint(now + HOLD_CHUNK_S, lambda: extend(now + HOLD_CHUNK_S))


def _crash_loop_backoff(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    scenario = handle.scenario
    run_s = float(param_value(scenario, "run_seconds") or 0.0)
    touched = [container for _pod, container in _containers(cluster, scenario)]
    _hold_crash_loop(
        cluster,
        handle,
        touched,
        first_run_s=lambda _c: run_s,
        run_s=lambda _c: run_s,
        reason="Error",
        exit_code=1,
    )

    def undo() -> None:
        for container in touched:
            if container.crash is not None:
                container.crash = container.crash.truncated(cluster.now)

    return undo


def _unavailable(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    workload = _workload(cluster, handle.scenario)
    pods = [p for p in cluster.pods_of(workload) if p.deleting_since is None]
    count = min(int(handle.level or 0), len(pods))
    chosen = pods[len(pods) - count :] if count else []
    for pod in chosen:
        pod.readiness_failing = True
    workload.unavailable = count
    handle.effective_level = float(count)

    def undo() -> None:
        workload.unavailable = 0
        for pod in cluster.pods_of(workload):
            pod.readiness_failing = False
        cluster.breakpoint(cluster.now)

    return undo


def _stuck_rollout(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    from conformance.sim.naming import revision_hash

    workload = _workload(cluster, handle.scenario)
    if workload.rollout_stuck:
        raise ValueError(f"workload {workload.namespace}/{workload.name} already has a stuck rollout")
    now = cluster.now
    previous = workload.revision
    workload.generation += 1
    workload.previous_revision = previous
    workload.revision = revision_hash(cluster.seed, workload.namespace, workload.name, workload.generation)
    workload.revisions.append(workload.revision)
    workload.rollout_started = now
    workload.rollout_stuck = True
    pods = [p for p in cluster.pods_of(workload) if p.deleting_since is None]
    created: list[PodState] = []
    if workload.kind == "Deployment":
        replicas = workload.spec.replicas
        surge, unavailable = math.ceil(replicas * 0.25), math.floor(replicas * 0.25)
        for old in pods[len(pods) - unavailable :] if unavailable else []:
            cluster.delete_pod(old)
        for _ in range(surge + unavailable):
            created.append(cluster.new_pod(workload, now, node=cluster.pick_node(workload, now), broken=True))
    elif pods:
        victim = pods[-1] if workload.kind == "StatefulSet" else pods[0]
        created.append(cluster.replace_pod(victim, now, broken=True, revision=workload.revision))
    cluster.breakpoint(now)

    def undo() -> None:
        t = cluster.now
        workload.generation += 1
        workload.revision = previous
        workload.previous_revision = None
        workload.rollout_started = None
        workload.rollout_stuck = False
        for pod in [p for p in cluster.pods_of(workload) if p.revision != previous]:
            if workload.kind == "Deployment":
                cluster.delete_pod(pod)
            else:
                cluster.replace_pod(pod, t, broken=False, revision=previous)
        if workload.kind == "Deployment":
            missing = workload.spec.replicas - len(cluster.pods_of(workload))
            for _ in range(max(0, missing)):
                cluster.new_pod(workload, t, node=cluster.pick_node(workload, t))
        cluster.breakpoint(t)

    return undo


def _claim(cluster: SimulatedCluster, scenario: Scenario) -> ClaimState:
    target = scenario.target
    matches = [
        c
        for c in cluster.claims
        if c.spec.name == target.volume_claim and (target.namespace is None or c.spec.namespace == target.namespace)
    ]
    if not matches:
        known = sorted(f"{c.spec.namespace}/{c.spec.name}" for c in cluster.claims)
        raise ValueError(
            f"scenario {scenario.id}: no volume claim {target.namespace}/{target.volume_claim}; declared: {known}"
        )
    return matches[0]


def _fill_volume(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    scenario = handle.scenario
    claim = _claim(cluster, scenario)
    available = _ratio(scenario, handle.level)
    most = 1.0 - EXT4_RESERVED_SHARE
    if available > most:
        handle.effective_level = most
        handle.notes.append(
            f"ext4 reserves {EXT4_RESERVED_SHARE:.0%} of the volume for root: at most {most:g} of it is available"
        )
        available = most
    now = cluster.now
    # The level is available/capacity, as alerts compute it: the blocks in use leave the root reserve out.
    used = most - available
    claim.used_ratio = Ramp(now, float(handle.timing.get("fill_s", 0.0)), claim.used_share(now), used)

    def undo() -> None:
        claim.used_ratio = None

    return undo


#: The PV the pv-failed fault creates: small, as nothing is written to it.
PV_FAILED_CAPACITY_BYTES = 2**30


def _pv_failed(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    """A hostPath PV (reclaim policy Delete) and a claim bound to it, in the target claim's namespace; the claim
    is deleted at once. The PV controller (pkg/controller/volume/persistentvolume, deleteVolumeOperation) finds
    the volume released and asks the hostPath plugin's deleter, which refuses any path outside /tmp
    (pkg/volume/hostpath/host_path.go, hostPathDeleter.Delete); the failed delete marks the PV Failed
    (VolumeFailedDelete), within a sync of the claim's deletion, and every later sync retries and fails again.
    The short-lived claim never reaches a scrape; the target claim itself is not touched."""
    scenario = handle.scenario
    target = scenario.target
    claim = _claim(cluster, scenario)
    name = injected_name(claim.spec.name, "failed-pv")
    if any(v.name == name for v in cluster.volumes):
        raise ValueError(f"scenario {scenario.id}: PV {name} already exists")
    now = cluster.now
    volume = VolumeState(
        name=name,
        capacity_bytes=PV_FAILED_CAPACITY_BYTES,
        host_path=str(param_value(scenario, "host_path")),
        reclaim_policy="Delete",
        claim_namespace=target.namespace or claim.spec.namespace,
        claim_name=name,
        created=now,
        failed_since=now,
    )
    cluster.volumes.append(volume)
    cluster.breakpoint(now)

    def undo() -> None:
        cluster.volumes.remove(volume)
        cluster.breakpoint(cluster.now)

    return undo


def _fill_node_filesystem(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    """The node's root filesystem filled until avail/size is the level (linearly over ``fill_s``)."""
    node = _node(cluster, handle.scenario)
    available = _ratio(handle.scenario, handle.level)
    most = 1.0 - EXT4_RESERVED_SHARE
    if available > most:
        handle.effective_level = most
        handle.notes.append(
            f"ext4 reserves {EXT4_RESERVED_SHARE:.0%} of the filesystem for root: at most {most:g} of it is available"
        )
        available = most
    now = cluster.now
    fill_s = float(handle.timing.get("fill_s", 0.0))
    node.filesystem_used = Ramp(now, fill_s, node.filesystem_used_share(now), most - available)
    cluster.breakpoint(now)
    cluster.breakpoint(now + fill_s)  # the fill stops there: avail is constant from then on

    def undo() -> None:
        node.filesystem_used = None
        cluster.breakpoint(cluster.now)

    return undo


def _clock_drift(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    """The node's clock off by the level and/or no longer synchronised (see :class:`ClockFault`)."""
    scenario = handle.scenario
    node = _node(cluster, scenario)
    synchronised = str(param_value(scenario, "synchronised")).lower()
    if synchronised not in ("true", "false"):
        raise ValueError(f"scenario {scenario.id}: synchronised must be 'true' or 'false', got {synchronised!r}")
    offset = None if handle.level is None else _ratio(scenario, handle.level, upper=MAX_PHASE_S)
    if offset is None and synchronised == "true":
        raise ValueError(f"scenario {scenario.id}: clock-drift needs a level (offset) or synchronised: false")
    now = cluster.now
    node.clock = ClockFault(now, offset, synchronised == "true")
    cluster.breakpoint(now)
    limit_at = node.clock.limit_reached_at()
    if limit_at is not None:
        cluster.breakpoint(limit_at)  # the maximum error stops growing at 16 s

    def undo() -> None:
        # The daemon is back: it steps the offset away and resets the maximum error at its next poll.
        node.clock = None
        cluster.breakpoint(cluster.now)

    return undo


def _cordon(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    node = _node(cluster, handle.scenario)
    was = node.unschedulable
    node.unschedulable = True

    def undo() -> None:
        node.unschedulable = was
        cluster.schedule_pending(cluster.now)

    return undo


def _node_not_ready(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    scenario = handle.scenario
    node = _node(cluster, scenario)
    mode = str(param_value(scenario, "ready_status")).lower()
    if mode not in ("unknown", "false"):
        raise ValueError(f"scenario {scenario.id}: ready_status must be 'unknown' or 'false', got {mode!r}")
    if node.not_ready_since is not None:
        raise ValueError(f"node {node.name} is already not ready")
    now = cluster.now
    node.not_ready_mode = "unknown" if mode == "unknown" else "false"
    node.not_ready_since = now
    if mode == "unknown":
        cluster.breakpoint(now + NODE_MONITOR_GRACE_S)
    taint_since = node.not_ready_taint_since()
    assert taint_since is not None

    def evict() -> None:
        """The taint eviction controller deletes the pods whose toleration ran out; what happens next depends on
        whether a kubelet is there to finish the deletion."""
        if handle.reverted_at is not None:
            return
        t = cluster.now
        for pod in [p for p in cluster.pods if p.node == node.name and p.deleting_since is None]:
            workload = pod.workload
            if workload is None or workload.kind == "DaemonSet":
                continue  # DaemonSet pods tolerate not-ready/unreachable; finished Job pods stay as they are
            if mode == "false":
                # The kubelet still runs: it stops the containers and confirms, and the controller replaces them.
                cluster.replace_pod(pod, t)
                continue
            # Unreachable: nobody can confirm the pod stopped. It stays, Terminating (deletionTimestamp set).
            pod.deleting_since = t
            # A quota stops charging it once its deletion timestamp's grace period is over (see sim.policies).
            cluster.breakpoint(quota_release_at(t))
            if workload.kind == "Deployment":
                # The ReplicaSet counts only pods not being deleted, so it creates a replacement elsewhere; a
                # StatefulSet must not run two pods of one identity and waits for the old one to be gone.
                cluster.new_pod(
                    workload,
                    t,
                    node=cluster.pick_node(workload, t),
                    revision=pod.revision,
                    broken=any(c.image_broken for c in pod.containers),
                    readiness_failing=pod.readiness_failing,
                )
        cluster.breakpoint(t)

    cluster.breakpoint(taint_since + EVICTION_TOLERATION_S, evict)

    def undo() -> None:
        """The kubelet is back: it finishes the deletions; a StatefulSet then recreates its pods."""
        t = cluster.now
        node.not_ready_mode = None
        node.not_ready_since = None
        for pod in [p for p in cluster.pods if p.node == node.name and p.deleting_since is not None]:
            if pod.workload is not None and pod.workload.kind == "StatefulSet":
                cluster.replace_pod(pod, t)
            else:
                cluster.delete_pod(pod)
        cluster.schedule_pending(t)
        cluster.breakpoint(t)

    return undo


def _kubelets_down(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    """Every kubelet silent at once (see the module docstring): each node as ``node-not-ready`` unknown, with the
    node lifecycle controller's evictions halted because no node is Ready."""
    down = [node.name for node in cluster.nodes.values() if node.not_ready_since is not None]
    if down:
        raise ValueError(f"scenario {handle.scenario.id}: node(s) {', '.join(down)} already not ready")
    now = cluster.now
    for node in cluster.nodes.values():
        node.not_ready_mode = "unknown"
        node.not_ready_since = now
        node.evictions_halted = True
    cluster.breakpoint(now)
    cluster.breakpoint(now + NODE_MONITOR_GRACE_S)

    def undo() -> None:
        """The kubelets are back: every node Ready at its next status update, nothing was evicted."""
        for node in cluster.nodes.values():
            node.not_ready_mode = None
            node.not_ready_since = None
            node.evictions_halted = False
        cluster.schedule_pending(cluster.now)
        cluster.breakpoint(cluster.now)

    return undo


def _control_plane_down(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    """The component stops on every control-plane node (see the module docstring for what each one does)."""
    scenario = handle.scenario
    component = scenario.component
    if component is None:
        raise ValueError(
            f"scenario {scenario.id}: control-plane-down needs target.component, one of "
            f"{sorted(CONTROL_PLANE_COMPONENTS)}"
        )
    if component.job in cluster.stopped_components:
        raise ValueError(f"scenario {scenario.id}: {component.name} is already stopped")
    if component.job not in control_plane.simulated_jobs(cluster):
        raise ValueError(
            f"scenario {scenario.id}: the simulated cluster runs no {component.name} (no control-plane node, or "
            "a stand-in replaces it)"
        )
    cluster.stopped_components.add(component.job)
    cluster.breakpoint(cluster.now)

    def undo() -> None:
        cluster.stopped_components.discard(component.job)
        cluster.breakpoint(cluster.now)

    return undo


def _memory(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    scenario = handle.scenario
    ratio = _ratio(scenario, handle.level, upper=math.inf)
    now = cluster.now
    ramp_s = float(handle.timing.get("ramp_s", 0.0))
    touched: list[ContainerState] = []
    for _pod, container in _containers(cluster, scenario):
        if container.spec.memory_limit_bytes is None:
            raise ValueError(f"scenario {scenario.id}: container {container.name} has no memory limit to be near")
        touched.append(container)
    if ratio >= 1.0:
        _out_of_memory(cluster, handle, touched, ratio, ramp_s)
    else:
        for container in touched:
            container.memory_ratio = Ramp(now, ramp_s, container.memory_usage_ratio(now), ratio)

    def undo() -> None:
        for container in touched:
            container.memory_ratio = None
            if container.oom is not None:
                container.oom = None
                if container.crash is not None:
                    container.crash = container.crash.truncated(cluster.now)

    return undo


def _out_of_memory(
    cluster: SimulatedCluster, handle: FaultHandle, containers: list[ContainerState], ratio: float, ramp_s: float
) -> None:
    """Memory demand at or past the limit: the working set climbs (``ramp_s`` to the level) until it reaches the
    limit, and the kernel's OOM killer ends the container there. The kubelet reports ``OOMKilled`` (exit code
    137) and restarts it with its back-off; the new run climbs again from the baseline, and so on until revert.
    """
    now = cluster.now
    for container in containers:
        start_value = container.memory_usage_ratio(now)
        rate = math.inf if ramp_s == 0 or ratio <= start_value else (ratio - start_value) / ramp_s
        container.memory_ratio = None
        container.oom = OomRun(now, start_value, rate)
    _hold_crash_loop(
        cluster,
        handle,
        containers,
        first_run_s=lambda c: c.oom.run_s(c.oom.start_value) if c.oom is not None else 0.0,
        run_s=lambda c: c.oom.run_s(c.spec.memory_usage_ratio) if c.oom is not None else 0.0,
        reason="OOMKilled",
        exit_code=OOM_EXIT_CODE,
    )


def _cpu(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    scenario = handle.scenario
    ratio = _ratio(scenario, handle.level)
    touched: list[ContainerState] = []
    for _pod, container in _containers(cluster, scenario):
        if container.spec.cpu_limit_cores is None:
            raise ValueError(f"scenario {scenario.id}: container {container.name} has no CPU limit to be near")
        container.cpu_ratio = ratio
        touched.append(container)
    cluster.breakpoint(cluster.now)

    def undo() -> None:
        for container in touched:
            container.cpu_ratio = None
        cluster.breakpoint(cluster.now)

    return undo


def _cpu_throttling(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    """CPU use at the share of the limit that throttles the level's share of CFS periods (cAdvisor's model)."""
    usage = usage_for_throttled_share(_ratio(handle.scenario, handle.level))
    return _cpu(cluster, replace(handle, level=usage, effective_level=usage))


def _node_memory(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    node = _node(cluster, handle.scenario)
    ratio = _ratio(handle.scenario, handle.level)
    now = cluster.now
    node.memory_used = Ramp(now, float(handle.timing.get("ramp_s", 0.0)), node.memory_used_ratio(now), ratio)

    def undo() -> None:
        node.memory_used = None

    return undo


def _job_spec(cluster: SimulatedCluster, scenario: Scenario) -> JobSpec:
    target = scenario.target
    specs = [
        j
        for j in cluster.env.jobs
        if j.name == target.job and (target.namespace is None or j.namespace == target.namespace)
    ]
    if not specs:
        known = sorted(f"{j.namespace}/{j.name}" for j in cluster.env.jobs)
        raise ValueError(f"scenario {scenario.id}: no job {target.namespace}/{target.job}; declared: {known}")
    return specs[0]


def _fail_job(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    """A failed run of the job created beside it (the declared Job or CronJob is not touched), named as the
    Kubernetes backends name it (:func:`fault_job_name`), so the alert's ``job_name`` is the one predicted."""
    spec = _job_spec(cluster, handle.scenario)
    name = fault_job_name(spec.name, spec.cronjob, "failed")
    failed = cluster._add_job_run(spec, created=cluster.now, failed=True, name=name)

    def undo() -> None:
        _delete_runs(cluster, [failed])

    return undo


def _job_too_long(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    """A Job created beside the declared one whose container sleeps: the Job controller sets its startTime when
    it first syncs it (at once) and counts its Running pod in status.active; with no activeDeadlineSeconds and
    no exit it never gets a Complete or Failed condition. The declared job and its runs are left as they are."""
    spec = _job_spec(cluster, handle.scenario)
    name = fault_job_name(spec.name, spec.cronjob, "running")
    run = cluster._add_job_run(spec, created=cluster.now, failed=False, name=name, completes=False)
    cluster.breakpoint(cluster.now)

    def undo() -> None:
        _delete_runs(cluster, [run])
        cluster.breakpoint(cluster.now)

    return undo


def _delete_runs(cluster: SimulatedCluster, runs: list[JobRun]) -> None:
    for run in runs:
        if run in cluster.jobs:
            cluster.jobs.remove(run)
        for pod in [p for p in cluster.pods if p.job is run]:
            cluster.delete_pod(pod)


def _target_down(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    workload = _workload(cluster, handle.scenario)
    if workload.spec.scrape is None:
        raise ValueError(f"scenario {handle.scenario.id}: workload {workload.name} is not a scrape target")
    workload.scrape_down = True

    def undo() -> None:
        workload.scrape_down = False

    return undo


def _http_workload(cluster: SimulatedCluster, handle: FaultHandle) -> WorkloadState:
    workload = _workload(cluster, handle.scenario)
    if workload.spec.http is None:
        raise ValueError(f"scenario {handle.scenario.id}: workload {workload.name} declares no http metrics")
    return workload


def _error_rate(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    workload = _http_workload(cluster, handle)
    workload.error_ratio = _ratio(handle.scenario, handle.level)
    cluster.breakpoint(cluster.now)

    def undo() -> None:
        workload.error_ratio = None
        cluster.breakpoint(cluster.now)

    return undo


def _latency(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    workload = _http_workload(cluster, handle)
    assert workload.spec.http is not None and handle.level is not None
    quantile = float(param_value(handle.scenario, "quantile") or 0.95)
    model = latency_model(float(handle.level), quantile, workload.spec.http.buckets)
    workload.latency = model
    handle.effective_level = model.effective
    if model.effective != model.requested:
        handle.notes.append(
            f"histogram_quantile({quantile:g}) cannot report {model.requested:g}s with these buckets; "
            f"it will report {model.effective:g}s"
        )
    cluster.breakpoint(cluster.now)

    def undo() -> None:
        workload.latency = None
        cluster.breakpoint(cluster.now)

    return undo


def _vendor_rate(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    scenario = handle.scenario
    workload = _workload(cluster, scenario)
    metric = str(param_value(scenario, "metric") or "")
    counters = [m.name for m in workload.spec.vendor_metrics if m.type == "counter"]
    if metric not in counters:
        raise ValueError(
            f"scenario {scenario.id}: {scenario.fault} needs param metric naming a counter declared in "
            f"{workload.namespace}/{workload.name}.vendor_metrics; declared counters: {counters}"
        )
    previous = workload.vendor_rates.get(metric)
    workload.vendor_rates[metric] = float(handle.level or 0.0)
    cluster.breakpoint(cluster.now)

    def undo() -> None:
        if previous is None:
            workload.vendor_rates.pop(metric, None)
        else:
            workload.vendor_rates[metric] = previous
        cluster.breakpoint(cluster.now)

    return undo


def _network_flood(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    workload = _workload(cluster, handle.scenario)
    workload.transmit_bytes_per_second = float(handle.level or 0.0)
    cluster.breakpoint(cluster.now)

    def undo() -> None:
        workload.transmit_bytes_per_second = None
        cluster.breakpoint(cluster.now)

    return undo


def _kill_pods(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    workload = _workload(cluster, handle.scenario)
    now = cluster.now
    for pod in [p for p in cluster.pods_of(workload) if p.deleting_since is None]:
        fresh = cluster.replace_pod(pod, now)
        fresh.readiness_failing = pod.readiness_failing
    cluster.breakpoint(now)

    def undo() -> None:
        """Nothing to undo: the controller already recreated the pods."""

    return undo


def _ksm_list_errors(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    """kube-state-metrics loses the right to list and watch a resource: its reflector meets the refusal when the
    open watch ends and then fails every List with client-go's back-off (:mod:`conformance.sim.families.ksm_self`).
    Its object series of that resource stay as the last sync left them (the store is not emptied)."""
    scenario = handle.scenario
    resource = str(param_value(scenario, "resource"))
    if resource not in ksm_self.RESOURCES:
        raise ValueError(
            f"scenario {scenario.id}: kube-state-metrics does not watch {resource!r}; it watches {ksm_self.RESOURCES}"
        )
    if not cluster.env.ksm_self_monitor:
        handle.notes.append(
            "kube-state-metrics' telemetry port is not scraped (the chart's selfMonitor.enabled is false; "
            "environment kube_state_metrics.self_monitor): no series shows the errors"
        )
    denied = str(param_value(scenario, "denied"))
    if denied not in ("list-watch", "watch"):
        raise ValueError(f"scenario {scenario.id}: param denied must be 'list-watch' or 'watch', got {denied!r}")
    denial = ksm_self.ListDenial(resource, cluster.now, watch_only=denied == "watch")
    cluster.ksm_denials.append(denial)
    for moment in denial.ramp_moments():
        cluster.breakpoint(moment)

    def undo() -> None:
        denial.until = cluster.now
        cluster.breakpoint(cluster.now)

    return undo


def _no_fault(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    """Fault ``none``: the healthy cluster stays as it is (an always-firing alert's scenario)."""

    def undo() -> None:
        """Nothing was changed."""

    return undo


def _hpa_maxed(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    """The autoscaler's maxReplicas lowered to the replicas its workload runs (a spec change: generation + 1)."""
    workload = _workload(cluster, handle.scenario)
    autoscaler = next(
        (a for a in cluster.autoscalers if a.spec.namespace == workload.namespace and a.spec.workload == workload.name),
        None,
    )
    if autoscaler is None:
        raise ValueError(f"scenario {handle.scenario.id}: no autoscaler scales {workload.namespace}/{workload.name}")
    if workload.spec.replicas <= autoscaler.spec.min_replicas:
        raise ValueError(
            f"scenario {handle.scenario.id}: {workload.name} runs at its autoscaler's minReplicas; lowering "
            "maxReplicas to it would make max == min, which is not maxed out"
        )
    was = autoscaler.max_replicas
    autoscaler.max_replicas = workload.spec.replicas
    autoscaler.generation += 1

    def undo() -> None:
        autoscaler.max_replicas = was
        autoscaler.generation += 1

    return undo


def _quota_usage(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    """The quota's hard limit of ``resource`` lowered until used/hard is the level (:func:`lowered_hard`)."""
    scenario = handle.scenario
    target = scenario.target
    quota = next(
        (q for q in cluster.quotas if q.spec.name == target.quota and q.spec.namespace == target.namespace), None
    )
    if quota is None:
        known = sorted(f"{q.spec.namespace}/{q.spec.name}" for q in cluster.quotas)
        raise ValueError(f"scenario {scenario.id}: no quota {target.namespace}/{target.quota}; declared: {known}")
    resource = str(param_value(scenario, "resource"))
    if resource not in quota.spec.hard:
        raise ValueError(f"scenario {scenario.id}: quota {quota.spec.name} sets no hard limit on {resource}")
    assert handle.level is not None
    used = policies.quota_used(cluster, quota, resource, cluster.now)
    hard = lowered_hard(used, handle.level, resource)
    handle.effective_level = used / hard
    if abs(handle.effective_level - handle.level) > 1e-6:
        handle.notes.append(f"{resource} moves in steps: used/hard is {handle.effective_level:g}")
    quota.hard[resource] = hard

    def undo() -> None:
        quota.hard.pop(resource, None)

    return undo


def _pdb_unsatisfiable(cluster: SimulatedCluster, handle: FaultHandle) -> Callable[[], None]:
    """The budget's minAvailable set to one more than the workload's replicas: never met while the fault holds."""
    workload = _workload(cluster, handle.scenario)
    budget = next(
        (b for b in cluster.budgets if b.spec.namespace == workload.namespace and b.spec.workload == workload.name),
        None,
    )
    if budget is None:
        raise ValueError(f"scenario {handle.scenario.id}: no disruption budget selects {workload.name}")
    was = budget.min_available
    budget.min_available = unsatisfiable_min_available(workload.spec.replicas)
    budget.generation += 1

    def undo() -> None:
        budget.min_available = was
        budget.generation += 1

    return undo


_APPLIERS: dict[str, Callable[[SimulatedCluster, FaultHandle], Callable[[], None]]] = {
    "kill-pods": _kill_pods,
    "crash-loop": _crash_loop,
    "crash-loop-backoff": _crash_loop_backoff,
    "unavailable-replicas": _unavailable,
    "stuck-rollout": _stuck_rollout,
    "fill-volume": _fill_volume,
    "cordon-node": _cordon,
    "node-not-ready": _node_not_ready,
    "memory-near-limit": _memory,
    "cpu-near-limit": _cpu,
    "cpu-throttling": _cpu_throttling,
    "node-memory-pressure": _node_memory,
    "fail-job": _fail_job,
    "target-down": _target_down,
    "error-rate": _error_rate,
    "latency": _latency,
    "metric-rate-drop": _vendor_rate,
    "error-counter": _vendor_rate,
    "network-flood": _network_flood,
    NO_FAULT: _no_fault,
    "job-too-long": _job_too_long,
    "pv-failed": _pv_failed,
    "ksm-list-errors": _ksm_list_errors,
    "hpa-maxed": _hpa_maxed,
    "quota-usage": _quota_usage,
    "pdb-unsatisfiable": _pdb_unsatisfiable,
    "control-plane-down": _control_plane_down,
    "kubelets-down": _kubelets_down,
    "fill-node-filesystem": _fill_node_filesystem,
    "clock-drift": _clock_drift,
}
