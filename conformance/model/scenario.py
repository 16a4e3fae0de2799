"""The one scenario vocabulary that drives depth 3 (virtual time), depth 5 (live twin) and depth 6 (cluster).

A scenario names a fault from :data:`FAULT_KINDS`, its target, and fixed parameters. Where the fault has a
*level* (memory at 91% of the limit, 3 restarts, 4% free space) the level is not written in the scenario: it is
derived from the documented threshold of the alert being proven, just past it for the firing case and just
inside it for the healthy case (see :mod:`conformance.static.cases`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

TargetKind = Literal["workload", "container", "node", "volume", "job", "component", "cluster", "none", "quota"]
"""What a fault's ``target`` names. ``component``: a control-plane component of the simulated cluster
(:data:`CONTROL_PLANE_COMPONENTS`); ``cluster``: the whole cluster, no object (the scenario has no ``target``, as
for ``none``); ``quota``: a ResourceQuota declared in ``environment.quotas``."""


@dataclass(frozen=True)
class FaultParam:
    """A scenario ``params`` entry a fault reads: its unit, its default (None: required) and what it changes.

    ``backends`` is ``all``, or the backends that read it (``kind, cluster`` for the real-Kubernetes injectors);
    ``kube_default`` is the default on kind and existing clusters where it differs (a real container needs time
    to start before it can crash).
    """

    name: str
    unit: str
    default: float | str | None
    meaning: str
    backends: str = "all"
    kube_default: float | str | None = None


@dataclass(frozen=True)
class FaultKind:
    """A kind of failure: what it targets and which quantity its level is measured in (None: no level).

    ``ceiling`` is the highest level the quantity can have (1 for a share); ``burst`` marks a fault that is a
    finite run of events (restarts, a deletion) rather than a state, so alerts on it may resolve on their own
    once the events leave their window while the fault is still "applied". ``shareable`` marks a level that is
    a total several objects can carry between them (a scenario's ``spread``); every backend that injects the
    fault must then split it (the Kubernetes backends skip network-flood altogether).

    ``level_optional`` marks a fault whose level is one of its effects among others (a clock's offset, besides
    losing its synchronisation): an alert with no threshold on the quantity applies it without a level, and the
    quantity keeps its healthy value.

    ``acts_on`` names the one object a fault without a target changes (kube-state-metrics' ClusterRole).

    ``unit`` is the level's unit; ``params`` the scenario parameters it reads. Its built-in Kubernetes delays
    (progress deadline, node grace, back-off) are the simulated cluster's (:data:`conformance.sim.faults.DELAYS`).
    """

    name: str
    target: TargetKind
    quantity: str | None
    description: str
    integer: bool = False
    ceiling: float | None = None
    burst: bool = False
    shareable: bool = False
    unit: str = ""
    params: tuple[FaultParam, ...] = ()
    level_optional: bool = False
    #: For a fault without a target that still acts on one object of the cluster: that object (two such runs
    #: never share a wave or a lane, as two faults on one workload do not).
    acts_on: str | None = None

    def param(self, name: str) -> FaultParam:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(f"fault {self.name} has no parameter {name!r}")


#: The fault that changes nothing: an always-firing alert's scenario (:attr:`Scenario.always`).
NO_FAULT = "none"


@dataclass(frozen=True)
class Component:
    """A control-plane component a fault can stop: the scrape job the chart's ServiceMonitor gives it, and whether
    its target leaves Prometheus's discovery when it stops (a static pod whose mirror pod goes, so that the
    controller manager's endpoint controllers drop it from its Service) or stays discovered with ``up`` 0: the
    API server, because Prometheus discovers through it; the controller manager, because it runs the endpoint
    controllers that would drop it (with every instance stopped nobody updates its Service's endpoints)."""

    name: str
    job: str
    leaves_discovery: bool


#: The components ``control-plane-down`` takes down, by target ``component`` (the kubeadm static pod's name).
CONTROL_PLANE_COMPONENTS: dict[str, Component] = {
    c.name: c
    for c in (
        Component("kube-apiserver", "apiserver", leaves_discovery=False),
        Component("kube-scheduler", "kube-scheduler", leaves_discovery=True),
        Component("kube-controller-manager", "kube-controller-manager", leaves_discovery=False),
    )
}

_PODS = FaultParam("pods", "all | one", "all", "the fault hits every pod of the workload, or only the first")
#: A crash loop's parameters, held as a count (crash-loop) or as a state (crash-loop-backoff).
_CRASH_PARAMS = (
    FaultParam("run_seconds", "seconds", 0, "how long each run lasts before the container exits", kube_default=5),
    _PODS,
    FaultParam("exit_code", "exit code", 1, "the code the container exits with", "kind, cluster"),
)
_MAX_HOLD = FaultParam(
    "max_hold_s", "seconds", 1800, "the stress process on the real pod ends by itself after this long", "kind, cluster"
)


FAULT_KINDS: dict[str, FaultKind] = {
    fault.name: fault
    for fault in (
        FaultKind(
            "kill-pods",
            "workload",
            None,
            "delete the workload's pods; the controller recreates them",
            burst=True,
            params=(FaultParam("count", "pods", "every pod", "how many pods to delete", "kind, cluster"),),
        ),
        FaultKind(
            "crash-loop",
            "container",
            "restarts",
            "the container exits after run_seconds; the kubelet restarts it at once the first time, then with its "
            "back-off (10s doubling to 5m); level = restarts within the alert's window",
            integer=True,
            burst=True,
            unit="restarts",
            params=_CRASH_PARAMS,
        ),
        FaultKind(
            "crash-loop-backoff",
            "container",
            None,
            "the container keeps exiting after run_seconds until the revert, held in CrashLoopBackOff; the restart "
            "count follows from the kubelet's back-off (at once, then 10s doubling to 5m)",
            params=_CRASH_PARAMS,
        ),
        FaultKind(
            "unavailable-replicas",
            "workload",
            "unavailable_replicas",
            "pods that cannot become ready while the desired count stays (never a scale to zero)",
            integer=True,
            unit="pods",
        ),
        FaultKind(
            "stuck-rollout",
            "workload",
            None,
            "a new revision whose pods cannot become ready: updated < desired, unavailable > 0",
            params=(
                FaultParam(
                    "progress_deadline_s",
                    "seconds",
                    "the Deployment's own (Kubernetes: 600)",
                    "the Deployment's progressDeadlineSeconds on the real cluster",
                    "kind, cluster",
                ),
            ),
        ),
        FaultKind(
            "fill-volume",
            "volume",
            "volume_available_ratio",
            "write to the claim until free space is the level",
            ceiling=1.0,
            unit="ratio of capacity (0-1)",
        ),
        FaultKind("cordon-node", "node", None, "spec.unschedulable=true plus the unschedulable taint"),
        FaultKind(
            "node-not-ready",
            "node",
            None,
            "the kubelet stops: Ready=Unknown after the 40s heartbeat grace (param ready_status=false for Ready=False)",
            params=(
                FaultParam(
                    "ready_status", "unknown | false", "unknown", "Ready=Unknown (kubelet silent) or Ready=False"
                ),
                FaultParam("hold_s", "seconds", 600, "the kubelet stays stopped at most this long", "kind, cluster"),
            ),
        ),
        FaultKind(
            "memory-near-limit",
            "container",
            "container_memory_limit_ratio",
            "working set climbs to a share of the limit; at 1 or more the container is OOM-killed at the limit "
            "(OOMKilled, restarted with the back-off, again on every run until the revert)",
            ceiling=1.0,
            unit="ratio of the memory limit (0-1; 1 or more: OOM-killed)",
            params=(_PODS, _MAX_HOLD),
        ),
        FaultKind(
            "cpu-near-limit",
            "container",
            "container_cpu_limit_ratio",
            "CPU use climbs to a share of the limit",
            ceiling=1.0,
            unit="ratio of the CPU limit (0-1)",
            params=(_PODS, _MAX_HOLD),
        ),
        FaultKind(
            "cpu-throttling",
            "container",
            "cpu_throttled_ratio",
            "CPU use presses on the limit until the level's share of CFS periods is throttled (CPUThrottlingHigh); "
            "on kind and clusters the container is held at its limit, so at least that share (nearly every period)",
            ceiling=1.0,
            unit="ratio of CFS periods throttled (0-1)",
            params=(_PODS, _MAX_HOLD),
        ),
        FaultKind(
            "node-memory-pressure",
            "node",
            "node_memory_used_ratio",
            "node memory in use climbs to a share",
            ceiling=1.0,
            unit="ratio of node memory (0-1)",
            params=(
                FaultParam(
                    "namespace", "namespace", "the target's", "where the memory-eating pod runs", "kind, cluster"
                ),
                _MAX_HOLD,
            ),
        ),
        FaultKind(
            "fail-job",
            "job",
            None,
            "a run of the job fails (backoffLimit reached)",
            params=(
                FaultParam("exit_code", "exit code", 1, "the code the job's container exits with", "kind, cluster"),
            ),
        ),
        FaultKind("target-down", "workload", None, "the workload's metrics endpoint stops answering scrapes"),
        FaultKind(
            NO_FAULT,
            "none",
            None,
            "no fault, no target: the healthy cluster as it is, for an alert documented to fire all the time (a "
            "heartbeat such as Watchdog); it must fire from the start, stay firing and reach its receivers",
        ),
        FaultKind(
            "error-rate",
            "workload",
            "error_ratio",
            "a share of HTTP requests answers 5xx",
            ceiling=1.0,
            unit="ratio of requests (0-1)",
        ),
        FaultKind(
            "latency",
            "workload",
            "latency_seconds",
            "requests take this long (param quantile, default 0.95)",
            unit="seconds",
            params=(
                FaultParam("quantile", "quantile (0-1)", 0.95, "the quantile of request durations set to the level"),
            ),
        ),
        FaultKind(
            "metric-rate-drop",
            "workload",
            "rate_per_second",
            "a vendor counter (param metric) grows at the level rate per second instead of its healthy rate",
            unit="per second, per pod",
            params=(FaultParam("metric", "metric name", None, "a counter declared in the workload's vendor_metrics"),),
        ),
        FaultKind(
            "error-counter",
            "workload",
            "errors_per_second",
            "a vendor error counter (param metric) grows at the level rate per second",
            unit="per second, per pod",
            params=(FaultParam("metric", "metric name", None, "a counter declared in the workload's vendor_metrics"),),
        ),
        FaultKind(
            "network-flood",
            "workload",
            "transmit_bytes_per_second",
            "the workload's pods transmit at the level in bytes per second, summed over its pods",
            shareable=True,
            unit="bytes per second",
        ),
        FaultKind(
            "job-too-long",
            "job",
            None,
            "a run of the job that never completes (its container sleeps, no activeDeadlineSeconds): Job active, "
            "its pod Running, from the fault until the revert deletes it",
        ),
        FaultKind(
            "pv-failed",
            "volume",
            None,
            "a hostPath PersistentVolume (reclaim policy Delete) bound to a claim of its own beside the target claim "
            "(which is not touched); the claim is deleted, the PV controller cannot delete a hostPath volume outside "
            "/tmp and marks the PV Failed; revert deletes the PV",
            params=(
                FaultParam(
                    "host_path",
                    "path",
                    "/var/lib/alert-conformance/pv-failed",
                    "the PV's hostPath, outside /tmp so that the deleter refuses it (no pod mounts it)",
                    "kind, cluster",
                ),
            ),
        ),
        FaultKind(
            "ksm-list-errors",
            "none",
            None,
            "kube-state-metrics loses permission to list and watch one resource (param resource; param denied=watch: "
            "to watch only): every list (watch) of its reflector fails (result=error), retried with client-go's "
            "back-off (800ms doubling to 30s); revert restores its ClusterRole",
            params=(
                FaultParam(
                    "resource",
                    "resource",
                    "leases",
                    "the resource (plural, one of the chart's collectors) kube-state-metrics loses; the default is one "
                    "whose families (kube_lease_*) no default alert reads",
                ),
                FaultParam(
                    "denied",
                    "list-watch | watch",
                    "list-watch",
                    "the verbs taken away: both (every List fails: list errors) or only watch (every List succeeds "
                    "and the Watch after it fails: watch errors)",
                ),
            ),
            acts_on="clusterrole/kube-state-metrics",
        ),
        FaultKind(
            "hpa-maxed",
            "workload",
            None,
            "the workload's HorizontalPodAutoscaler has its maxReplicas lowered to the replicas it runs, so it runs "
            "at its maximum (current == max, max != min); revert restores maxReplicas",
        ),
        FaultKind(
            "quota-usage",
            "quota",
            "quota_used_ratio",
            "the quota's hard limit of one resource (param resource) is lowered until used/hard is the level; above "
            "1 the quota is cut below what the namespace already uses (new pods are refused, running ones stay); "
            "revert restores hard",
            unit="ratio of the hard limit (used/hard)",
            params=(
                FaultParam(
                    "resource",
                    "quota resource",
                    "requests.memory",
                    "the resource of the quota's hard set whose limit is lowered (a count such as pods moves in whole "
                    "steps, so only some levels can be reached)",
                ),
            ),
        ),
        FaultKind(
            "pdb-unsatisfiable",
            "workload",
            None,
            "the PodDisruptionBudget over the workload's pods has minAvailable raised above the pods that can be "
            "healthy (replicas + 1), so desired healthy > current healthy; revert restores the budget",
        ),
        FaultKind(
            "control-plane-down",
            "component",
            None,
            "the component stops on every control-plane node (kubeadm: its static pod's manifest moved away); the "
            "scheduler's target leaves Prometheus's discovery (its mirror pod goes, the controller manager drops its "
            "endpoint); the API server's and the controller manager's stay discovered and stop answering (up 0: "
            "Prometheus discovers through the API server, and the controller manager keeps the endpoints)",
            params=(
                FaultParam("hold_s", "seconds", 1800, "the component stays stopped at most this long", "kind, cluster"),
            ),
        ),
        FaultKind(
            "kubelets-down",
            "cluster",
            None,
            "every node's kubelet stops: every node Ready=Unknown after the 40s heartbeat grace, the kubelet "
            "targets stay discovered with up 0; with no node Ready the node controller stops evicting (pods stay)",
            params=(
                FaultParam("hold_s", "seconds", 1800, "the kubelets stay stopped at most this long", "kind, cluster"),
            ),
        ),
        FaultKind(
            "fill-node-filesystem",
            "node",
            "node_filesystem_available_ratio",
            "write to a filesystem of the node until what non-root may still write (node-exporter's avail_bytes) is "
            "the level's share of its size; fill_s makes the fill linear (twin: the node's root filesystem, ext4 "
            "with its 5% root reserve; kind and clusters: a dedicated tmpfs mounted on the node)",
            ceiling=1.0,
            unit="ratio of the filesystem's size (0-1)",
            params=(
                FaultParam(
                    "fill_s",
                    "seconds",
                    0,
                    "fill linearly over this long (0: at once), so alerts on predict_linear see the trend a filling "
                    "disk draws; the alert's latest acceptable time-to-fire grows by as much",
                ),
                FaultParam(
                    "size", "bytes (quantity)", "64Mi", "the size of the tmpfs mounted and filled", "kind, cluster"
                ),
                FaultParam(
                    "namespace", "namespace", "the target's", "where the privileged filling pod runs", "kind, cluster"
                ),
                FaultParam(
                    "max_hold_s",
                    "seconds",
                    1800,
                    "the privileged pod ends by itself this long after the fill (the tmpfs stays mounted until the "
                    "revert, or the next run's clean-up, unmounts it through a pod started again for that)",
                    "kind, cluster",
                ),
            ),
        ),
        FaultKind(
            "clock-drift",
            "node",
            "clock_offset_seconds",
            "the node's clock is off its reference by the level (node_timex_offset_seconds, held); with "
            "synchronised false it is no longer synchronised: sync status 0 and the kernel's maximum error growing "
            "500us per second up to 16s (kernel/time/ntp.c); no level: the offset stays as it was",
            ceiling=0.5,
            unit="seconds (at most the kernel's MAXPHASE, 0.5)",
            level_optional=True,
            params=(
                FaultParam(
                    "synchronised",
                    "true | false",
                    "true",
                    "false: the clock is no longer synchronised (the kernel's STA_UNSYNC), its maximum error grows",
                ),
                FaultParam(
                    "namespace", "namespace", "the target's", "where the privileged adjtimex pod runs", "cluster"
                ),
                FaultParam(
                    "max_hold_s",
                    "seconds",
                    1800,
                    "the privileged pod and its adjtimex loop end by themselves after this long",
                    "cluster",
                ),
            ),
        ),
    )
}


def injected_name(base: str, what: str) -> str:
    """The name of an object a fault creates beside a declared one (``base``), the same on every backend so that
    the alert's labels (``job_name``, ``persistentvolume``) are the ones predicted."""
    return f"{base}-{what}-by-alert-conformance"[:63].rstrip("-")


def fault_job_name(job: str, cronjob: str | None, what: str) -> str:
    """The name of the Job a job fault creates beside the declared one (``what``: ``failed``, ``running``)."""
    return injected_name(cronjob or job, what)


def param_value(scenario: Scenario, name: str) -> float | str | None:
    """A scenario parameter, or the fault's documented default for it (one source for code and docs)."""
    return scenario.params.get(name, scenario.kind.param(name).default)


@dataclass(frozen=True)
class Target:
    """What a fault acts on. Which fields are needed follows the fault kind's ``target``."""

    namespace: str | None = None
    workload: str | None = None
    container: str | None = None
    node: str | None = None
    volume_claim: str | None = None
    job: str | None = None
    quota: str | None = None
    component: str | None = None

    def describe(self) -> str:
        """A short human name: ``runai/cluster-sync/cluster-sync``, ``node worker-2``."""
        if self.component:
            return f"component {self.component}"
        if self.node and not self.workload:
            return f"node {self.node}"
        if self.volume_claim:
            return f"pvc {self.namespace}/{self.volume_claim}"
        if self.job:
            return f"job {self.namespace}/{self.job}"
        if self.quota:
            return f"quota {self.namespace}/{self.quota}"
        parts = [p for p in (self.namespace, self.workload, self.container) if p]
        return "/".join(parts) or "the cluster"


@dataclass(frozen=True)
class Scenario:
    """A fault on a target with fixed parameters. ``id`` is unique within its alert.

    ``spread`` names further objects that carry the fault's level with the target, in equal shares: for a
    threshold documented on a total (traffic summed over pods), the total crosses it while no single object
    does, so an expression that measures one object (``max``, ``sum by (pod)``) stays silent and fails.

    ``expect`` is ``fire`` (the documented failure: the alert fires and notifies) or ``silent`` (the document
    says this failure must not raise the alert: it must neither fire nor notify while the fault holds). A silent
    scenario of a fault with a level injects ``level`` (default: just inside the threshold).

    ``silent_for`` (a firing scenario only) narrows what may fire: the document says the fault raises the alert
    for some objects and not for others (a lost node's single-replica Deployments, not its scaled ones), so no
    instance of the alert whose labels carry every label of one of these matchers may be pending, firing or
    notified while the fault holds. A matcher is label name -> exact value.
    """

    id: str
    fault: str
    target: Target
    params: dict[str, float | int | str] = field(default_factory=dict)
    description: str = ""
    spread: tuple[Target, ...] = ()
    expect: Literal["fire", "silent"] = "fire"
    level: float | None = None
    silent_for: tuple[dict[str, str], ...] = ()

    @property
    def silent(self) -> bool:
        return self.expect == "silent"

    def silenced_by(self, labels: Mapping[str, str]) -> dict[str, str] | None:
        """The first ``silent_for`` matcher an alert instance with ``labels`` matches (every one of its labels
        with the same value), or None: the instance may fire."""
        return next(
            (matcher for matcher in self.silent_for if all(labels.get(k) == v for k, v in matcher.items())),
            None,
        )

    @property
    def always(self) -> bool:
        """The alert is documented to fire on the healthy cluster itself (fault ``none``)."""
        return self.fault == NO_FAULT

    @property
    def targets(self) -> tuple[Target, ...]:
        """The target and the objects the level is spread over."""
        return (self.target, *self.spread)

    @property
    def kind(self) -> FaultKind:
        return FAULT_KINDS[self.fault]

    @property
    def component(self) -> Component | None:
        """The control-plane component the fault stops (None: the fault targets no component)."""
        return CONTROL_PLANE_COMPONENTS.get(self.target.component or "")

    @property
    def rejoins_discovery(self) -> bool:
        """Whether the fault takes scrape targets out of Prometheus's discovery, so that its revert brings them back
        through discovery again (Prometheus applies a changed target set on its own timers, see
        :mod:`conformance.observe.expectations`)."""
        component = self.component
        return self.fault == "control-plane-down" and component is not None and component.leaves_discovery


def describe_matcher(matcher: Mapping[str, str]) -> str:
    """A ``silent_for`` matcher as PromQL writes one: ``{deployment="researcher-service"}``."""
    return "{" + ", ".join(f"{key}={_quoted(value)}" for key, value in matcher.items()) + "}"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def share_levels(level: float, parts: int, integer: bool) -> list[float]:
    """``level`` split into ``parts`` equal shares (whole numbers, the first ones one larger, when ``integer``)."""
    if not integer:
        return [level / parts] * parts
    base, extra = divmod(int(level), parts)
    return [float(base + (1 if index < extra else 0)) for index in range(parts)]
