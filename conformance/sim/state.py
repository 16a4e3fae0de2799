"""The objects of the simulated cluster and their state as a function of virtual time.

Everything here is plain data plus closed-form questions ("is this container waiting at t?"); what changes the
state (scheduling, faults, evictions) lives in :mod:`conformance.sim.cluster` and the fault modules, and
what the exporters make of it lives in the family modules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from conformance.model.workloads import (
    AutoscalerSpec,
    ContainerSpec,
    DisruptionBudgetSpec,
    JobSpec,
    NodeSpec,
    QuotaSpec,
    VolumeClaimSpec,
    WorkloadSpec,
)
from conformance.sim.backoff import CrashSchedule
from conformance.sim.latency import LatencyModel

# A new pod's sandbox and containers take this long to start (phase Pending, waiting ContainerCreating) ...
POD_START_S = 2.0
# ... and its readiness probe first succeeds this long after creation.
POD_READY_S = 5.0
# Objects that exist when the simulation starts were created this long before virtual time 0.
PRE_EXISTING_AGE_S = 3600.0
# The node controller's grace period before a silent node becomes Ready=Unknown.
NODE_MONITOR_GRACE_S = 40.0
# DefaultTolerationSeconds for node.kubernetes.io/not-ready and /unreachable (NoExecute).
EVICTION_TOLERATION_S = 300.0
# A pod's default terminationGracePeriodSeconds: a graceful delete sets metadata.deletionTimestamp this far ahead
# (the API server's rest.BeforeDelete: now + grace period), which is what kube_pod_deletion_timestamp shows.
TERMINATION_GRACE_S = 30.0
# A Deployment's default progressDeadlineSeconds.
PROGRESS_DEADLINE_S = 600.0
# The kubelet's default hard eviction threshold memory.available<100Mi (also reserved from allocatable).
EVICTION_HARD_MEMORY = 100 * 2**20

ReadyStatus = Literal["true", "false", "unknown"]

# The kernel's NTP state (kernel/time/ntp.c) as node-exporter's timex collector reads it through adjtimex(2).
# Every second without an NTP daemon updating it, second_overflow() adds MAXFREQ (500 ppm: 500 us) to
# time_maxerror, up to NTP_PHASE_LIMIT (16 s), where the kernel also sets STA_UNSYNC itself.
MAXERROR_GROWTH_PER_S = 0.0005
NTP_PHASE_LIMIT_S = 16.0
# ntp_update_offset() clamps an offset handed to the kernel to MAXPHASE (0.5 s).
MAX_PHASE_S = 0.5
# A synchronised node's clock as a healthy chronyd/ntpd keeps it: a sub-millisecond offset, a maximum error
# the daemon resets to about 10 ms at every poll.
HEALTHY_CLOCK_OFFSET_S = 0.000125
HEALTHY_MAXERROR_S = 0.0105


@dataclass(frozen=True)
class ClockFault:
    """A node clock off its reference (``offset_s``, None: unchanged) and/or no longer synchronised from
    ``since``: then no daemon resets the kernel's maximum error, which grows 500 us per second until 16 s."""

    since: float
    offset_s: float | None
    synchronised: bool

    def offset(self, t: float) -> float:
        return self.offset_s if self.offset_s is not None and t >= self.since else HEALTHY_CLOCK_OFFSET_S

    def in_sync(self, t: float) -> bool:
        return self.synchronised or t < self.since

    def maxerror(self, t: float) -> float:
        if self.in_sync(t):
            return HEALTHY_MAXERROR_S
        return min(NTP_PHASE_LIMIT_S, HEALTHY_MAXERROR_S + MAXERROR_GROWTH_PER_S * (t - self.since))

    def limit_reached_at(self) -> float | None:
        """When the maximum error reaches 16 s (None: it never does, the clock stays synchronised)."""
        if self.synchronised:
            return None
        return self.since + (NTP_PHASE_LIMIT_S - HEALTHY_MAXERROR_S) / MAXERROR_GROWTH_PER_S


def maxerror_climb_s() -> float:
    """How long an unsynchronised kernel takes from a healthy maximum error to the 16 s limit (about 8.9 h)."""
    return (NTP_PHASE_LIMIT_S - HEALTHY_MAXERROR_S) / MAXERROR_GROWTH_PER_S


class Termination(NamedTuple):
    """A container's last termination as its status reports it (``lastState.terminated``)."""

    reason: str
    at: float
    exit_code: int


@dataclass(frozen=True)
class OomRun:
    """A container whose memory climbs past its limit on every run (the ``memory-near-limit`` fault at a level of
    1 or more). The working set grows by ``rate`` (share of the limit per second; inf: at once) from
    ``start_value`` at ``start``, and from the container's baseline after every restart, until it reaches the
    limit, where the kernel's OOM killer ends the run."""

    start: float
    start_value: float
    rate: float

    def run_s(self, from_value: float) -> float:
        """How long a run that starts at ``from_value`` of the limit lasts before it is OOM-killed."""
        return 0.0 if math.isinf(self.rate) or from_value >= 1.0 else (1.0 - from_value) / self.rate

    def value(self, since: float, from_value: float, t: float) -> float:
        return 1.0 if math.isinf(self.rate) else min(1.0, from_value + self.rate * (t - since))


@dataclass(frozen=True)
class Ramp:
    """A value moving linearly from ``start_value`` to ``end_value`` over ``[start, start + duration]``."""

    start: float
    duration: float
    start_value: float
    end_value: float

    def value(self, t: float) -> float:
        if self.duration <= 0.0 or t >= self.start + self.duration:
            return self.end_value if t >= self.start else self.start_value
        if t <= self.start:
            return self.start_value
        share = (t - self.start) / self.duration
        return self.start_value + (self.end_value - self.start_value) * share


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str


@dataclass
class NodeState:
    """A node: its spec, address, cordon state and the kubelet's health."""

    spec: NodeSpec
    index: int
    ip: str
    uid: str
    created: float
    control_plane_taint: bool
    unschedulable: bool = False
    # node-not-ready: when the kubelet stopped posting status (unknown) or reported NotReady (false).
    not_ready_mode: Literal["unknown", "false"] | None = None
    not_ready_since: float | None = None
    #: No node of the cluster is Ready (every kubelet down): the node lifecycle controller's "master disruption
    #: mode" removes the NoExecute taints and stops evicting, so the node keeps only its NoSchedule taint.
    evictions_halted: bool = False
    memory_used: Ramp | None = None
    # fill-node-filesystem: the root filesystem's blocks in use, as a share of its size (None: healthy).
    filesystem_used: Ramp | None = None
    clock: ClockFault | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def filesystem_used_share(self, t: float) -> float:
        """Blocks in use / blocks of the root filesystem (statfs: (f_blocks - f_bfree) / f_blocks)."""
        return self.filesystem_used.value(t) if self.filesystem_used is not None else ROOT_FILESYSTEM_USED_SHARE

    def ready_status(self, t: float) -> ReadyStatus:
        if self.not_ready_since is None or t < self.not_ready_since:
            return "true"
        if self.not_ready_mode == "false":
            return "false"
        return "unknown" if t >= self.not_ready_since + NODE_MONITOR_GRACE_S else "true"

    def kubelet_answers(self, t: float) -> bool:
        """Whether the kubelet (``/metrics`` and ``/metrics/cadvisor``) answers scrapes."""
        return not (self.not_ready_mode == "unknown" and self.not_ready_since is not None and t >= self.not_ready_since)

    def not_ready_taint_since(self) -> float | None:
        """When the NoExecute not-ready/unreachable taint was put on the node (eviction clock start)."""
        if self.not_ready_since is None:
            return None
        if self.not_ready_mode == "false":
            return self.not_ready_since
        return self.not_ready_since + NODE_MONITOR_GRACE_S

    def taints(self, t: float) -> list[Taint]:
        taints: list[Taint] = []
        if self.control_plane_taint:
            taints.append(Taint("node-role.kubernetes.io/control-plane", "", "NoSchedule"))
        if self.unschedulable:
            taints.append(Taint("node.kubernetes.io/unschedulable", "", "NoSchedule"))
        status = self.ready_status(t)
        if status != "true":
            key = "node.kubernetes.io/unreachable" if status == "unknown" else "node.kubernetes.io/not-ready"
            taints.append(Taint(key, "", "NoSchedule"))
            if not self.evictions_halted:
                taints.append(Taint(key, "", "NoExecute"))
        return taints

    def memory_used_ratio(self, t: float) -> float:
        return self.memory_used.value(t) if self.memory_used is not None else self.spec.memory_used_ratio

    def schedulable(self, t: float) -> bool:
        return not self.unschedulable and self.ready_status(t) == "true"


@dataclass
class ContainerState:
    """One container of a pod: its spec, crash loop, resource pressure and restart history."""

    spec: ContainerSpec
    image: str
    crash: CrashSchedule | None = None
    restart_base: int = 0
    image_broken: bool = False
    memory_ratio: Ramp | None = None
    oom: OomRun | None = None
    cpu_ratio: float | None = None
    # The last termination before any crash loop (None: never terminated).
    terminated_before: Termination | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def restarts(self, t: float) -> int:
        return self.restart_base + (self.crash.restarts_by(t) if self.crash else 0)

    def crash_waiting(self, t: float) -> bool:
        return self.crash is not None and self.crash.waiting_at(t)

    def last_termination(self, t: float) -> Termination | None:
        crashed = self.crash.last_crash_by(t) if self.crash else None
        if crashed is not None and self.crash is not None:
            return Termination(self.crash.reason, crashed, self.crash.exit_code)
        return self.terminated_before

    def memory_usage_ratio(self, t: float) -> float:
        if self.oom is not None and t >= self.oom.start:
            last_start = self.crash.last_start_by(t) if self.crash else None
            if last_start is not None and last_start >= self.oom.start:
                return self.oom.value(last_start, self.spec.memory_usage_ratio, t)
            return self.oom.value(self.oom.start, self.oom.start_value, t)
        return self.memory_ratio.value(t) if self.memory_ratio is not None else self.spec.memory_usage_ratio

    def cpu_usage_ratio(self) -> float:
        return self.cpu_ratio if self.cpu_ratio is not None else self.spec.cpu_usage_ratio


@dataclass
class PodState:
    """A pod: identity, placement, owner and its containers' states."""

    name: str
    namespace: str
    uid: str
    ip: str
    node: str | None
    owner_kind: str
    owner_name: str
    created: float
    containers: list[ContainerState]
    revision: str = ""
    workload: WorkloadState | None = None
    job: JobRun | None = None
    readiness_failing: bool = False
    deleting_since: float | None = None
    sandbox_id: str = ""
    # When the scheduler bound a pod that was created with no node to fit (None: bound at creation).
    bound_at: float | None = None

    @property
    def scheduled_at(self) -> float:
        """When the pod was bound to its node: its sandbox, containers and readiness count from here."""
        return self.bound_at if self.bound_at is not None else self.created

    def started(self, t: float) -> bool:
        """Whether the pod's sandbox and containers have been created (phase left Pending)."""
        if self.job is not None:
            return t >= self.job.created
        if self.node is None or any(c.image_broken for c in self.containers):
            return False
        return t >= self.scheduled_at + POD_START_S

    def phase(self, t: float) -> str:
        if self.job is not None:
            if self.job.failed:
                return "Failed"
            return "Running" if self.job.active(t) else "Succeeded"
        return "Running" if self.started(t) else "Pending"

    def container_running(self, container: ContainerState, t: float) -> bool:
        if self.job is not None:
            return self.job.active(t)
        if not self.started(t):
            return False
        return not container.crash_waiting(t)

    def container_ready(self, container: ContainerState, node_ready: bool, t: float) -> bool:
        if not self.container_running(container, t) or not node_ready or self.readiness_failing:
            return False
        last_start = container.crash.last_start_by(t) if container.crash else None
        since = max(self.scheduled_at + POD_READY_S, last_start if last_start is not None else float("-inf"))
        return t >= since

    def ready(self, node_ready: bool, t: float) -> bool:
        if self.job is not None:
            return node_ready and self.job.active(t)  # no readiness probe: ready while it runs
        return all(self.container_ready(c, node_ready, t) for c in self.containers)

    def container_instance(self, container: ContainerState, t: float) -> int:
        """Which incarnation of the container runs at ``t`` (changes on every restart)."""
        return container.restarts(t)


@dataclass
class WorkloadState:
    """A Deployment, StatefulSet or DaemonSet and what faults have done to it."""

    spec: WorkloadSpec
    uid: str
    created: float
    revision: str
    generation: int = 1
    previous_revision: str | None = None
    rollout_started: float | None = None
    rollout_stuck: bool = False
    unavailable: int = 0
    scrape_down: bool = False
    error_ratio: float | None = None
    latency: LatencyModel | None = None
    vendor_rates: dict[str, float] = field(default_factory=dict)
    transmit_bytes_per_second: float | None = None
    pods_created: int = 0
    revisions: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def namespace(self) -> str:
        return self.spec.namespace


@dataclass
class JobRun:
    """One run of a Job (a CronJob run is a Job of its own)."""

    spec: JobSpec
    name: str
    uid: str
    created: float
    completed: float | None
    failed: bool = False

    def active(self, t: float) -> bool:
        """Whether the run's pod is still running at ``t`` (the Job's status.active)."""
        return not self.failed and self.created <= t and (self.completed is None or t < self.completed)

    def succeeded_by(self, t: float) -> bool:
        return not self.failed and self.completed is not None and t >= self.completed


# mke2fs's default reserved-blocks percentage (``-m 5``): blocks only root may write. statfs counts them in
# f_bfree but not in f_bavail, so the kubelet's used (blocks - bfree) and available (bavail) leave them out both.
EXT4_RESERVED_SHARE = 0.05
#: A node's root filesystem (ext4): its size and the share of its blocks in use on a healthy node.
ROOT_FILESYSTEM_BYTES = 100 * 2**30
ROOT_FILESYSTEM_USED_SHARE = 0.3


@dataclass
class ClaimState:
    """A bound PersistentVolumeClaim and how full its ext4 volume is (``used_share``: blocks in use / blocks)."""

    spec: VolumeClaimSpec
    uid: str
    volume_name: str
    created: float
    used_ratio: Ramp | None = None

    def used_share(self, t: float) -> float:
        return self.used_ratio.value(t) if self.used_ratio is not None else self.spec.used_ratio

    def available_share(self, t: float) -> float:
        """What a non-root writer may still use, as a share of capacity (statfs f_bavail / f_blocks)."""
        return max(0.0, 1.0 - EXT4_RESERVED_SHARE - self.used_share(t))


@dataclass
class VolumeState:
    """A PersistentVolume created by a fault with a claim of its own (a claim's provisioned volume is
    :class:`ClaimState`'s). ``failed_since``: when the PV controller marked it Failed (None: still Bound)."""

    name: str
    capacity_bytes: int
    host_path: str
    reclaim_policy: str
    claim_namespace: str
    claim_name: str
    created: float
    failed_since: float | None = None

    def phase(self, t: float) -> str:
        return "Failed" if self.failed_since is not None and t >= self.failed_since else "Bound"


@dataclass
class AutoscalerState:
    """A HorizontalPodAutoscaler and what a fault did to its spec (``max_replicas``: None, the declared one)."""

    spec: AutoscalerSpec
    uid: str
    created: float
    max_replicas: int | None = None
    generation: int = 1

    @property
    def effective_max(self) -> int:
        return self.max_replicas if self.max_replicas is not None else self.spec.max_replicas


@dataclass
class QuotaState:
    """A ResourceQuota and what a fault did to its hard limits (``hard``: overrides of the declared ones)."""

    spec: QuotaSpec
    uid: str
    created: float
    hard: dict[str, float] = field(default_factory=dict)

    def hard_of(self, resource: str) -> float:
        return self.hard.get(resource, self.spec.hard[resource])


@dataclass
class BudgetState:
    """A PodDisruptionBudget and what a fault did to it (``min_available``: an override that replaces the declared
    minAvailable or maxUnavailable, as a patch setting minAvailable and removing maxUnavailable does)."""

    spec: DisruptionBudgetSpec
    uid: str
    created: float
    min_available: int | None = None
    generation: int = 1
