"""What the Kubernetes controllers make of the policy objects: a quota's usage, a disruption budget's status, an
autoscaler's status, each computed from the simulated pods and workloads at a moment.

Facts, by the controller that produces them (kubernetes/kubernetes):

* ResourceQuota (``pkg/quota/v1/evaluator/core/pods.go``): ``pods`` counts the namespace's pods that are not in
  a terminal phase (``QuotaV1Pod``: Succeeded and Failed pods are not charged); ``requests.cpu``/``cpu`` and
  ``requests.memory``/``memory`` sum those pods' container requests, ``limits.*`` their limits. The quota
  controller copies ``spec.hard`` to ``status.hard``. A pod being deleted is charged until its deletion timestamp
  (the delete's time plus its grace period) plus that grace period again has passed (``QuotaV1Pod``), so a pod
  left Terminating on an unreachable node stops counting a minute after its eviction.
* PodDisruptionBudget (``pkg/controller/disruption/disruption.go``, ``getExpectedPodCount``, ``countHealthyPods``):
  with an integer ``minAvailable`` the expected count is the number of selected pods and desired healthy is
  ``minAvailable``; with a percentage ``minAvailable`` or with ``maxUnavailable`` the expected count is the
  controller's ``spec.replicas`` and the percentage is scaled rounding up (``GetScaledValueFromIntOrPercent(...,
  true)``), desired healthy being ``minAvailable`` or ``expected - maxUnavailable`` (not below 0). Current
  healthy counts the selected pods that are Ready and not being deleted; disruptions allowed is
  ``current - desired``, not below 0.
* HorizontalPodAutoscaler (``pkg/controller/podautoscaler/horizontal.go``): ``status.currentReplicas`` is the
  scale subresource's ``spec.replicas``; the desired count is clamped to [minReplicas, maxReplicas]. The twin's
  autoscaler is at rest: its pods' utilization is at the target, so desired equals current (clamped), and its
  conditions are AbleToScale=True, ScalingActive=True, ScalingLimited=False (DesiredWithinRange; True only when
  the metrics ask for more than maxReplicas or fewer than minReplicas).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conformance.sim.state import (
    TERMINATION_GRACE_S,
    AutoscalerState,
    BudgetState,
    PodState,
    QuotaState,
    WorkloadState,
)

if TYPE_CHECKING:
    from conformance.sim.cluster import SimulatedCluster

_TERMINAL = ("Succeeded", "Failed")


def quota_release_at(deleted_at: float) -> float:
    """When a quota stops charging a pod deleted gracefully at ``deleted_at``: its deletionTimestamp (the delete
    plus the grace period) plus the grace period."""
    return deleted_at + 2 * TERMINATION_GRACE_S


def charged_pods(cluster: SimulatedCluster, namespace: str, t: float) -> list[PodState]:
    """The namespace's pods a quota charges at ``t``: not in a terminal phase, and not deleted long enough ago."""
    return [
        p
        for p in cluster.pods
        if p.namespace == namespace
        and p.phase(t) not in _TERMINAL
        and (p.deleting_since is None or t <= quota_release_at(p.deleting_since))
    ]


def quota_used(cluster: SimulatedCluster, quota: QuotaState, resource: str, t: float) -> float:
    """What the namespace's pods use of ``resource`` (pods: a count; CPU in cores; memory in bytes)."""
    pods = charged_pods(cluster, quota.spec.namespace, t)
    if resource == "pods":
        return float(len(pods))
    kind, _, name = resource.rpartition(".")
    total = 0.0
    for pod in pods:
        for container in pod.containers:
            spec = container.spec
            if name == "cpu":
                value = spec.cpu_limit_cores if kind == "limits" else spec.cpu_request_cores
            else:
                value = spec.memory_limit_bytes if kind == "limits" else spec.memory_request_bytes
            total += float(value or 0)
    # Quantities are whole millicores and bytes: the sum is exact there (kube-state-metrics prints MilliValue/1000).
    return round(total, 3)


@dataclass(frozen=True)
class BudgetStatus:
    """A PodDisruptionBudget's status as the disruption controller writes it."""

    expected_pods: int
    desired_healthy: int
    current_healthy: int

    @property
    def disruptions_allowed(self) -> int:
        return max(0, self.current_healthy - self.desired_healthy)


def _scaled(value: int | str, total: int) -> int:
    """intstr.GetScaledValueFromIntOrPercent with roundUp=true: a count as is, a percentage of ``total`` rounded up."""
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


def budget_status(cluster: SimulatedCluster, budget: BudgetState, workload: WorkloadState, t: float) -> BudgetStatus:
    """The budget's status over ``workload``'s pods at ``t`` (see the module's facts)."""
    pods = cluster.pods_of(workload)
    healthy = sum(1 for p in pods if p.deleting_since is None and cluster.pod_ready(p, t))
    spec = budget.spec
    min_available: int | str | None = budget.min_available if budget.min_available is not None else spec.min_available
    scale = workload.spec.replicas if workload.kind != "DaemonSet" else len(pods)
    if min_available is not None:
        if isinstance(min_available, int):
            return BudgetStatus(len(pods), min_available, healthy)
        return BudgetStatus(scale, _scaled(min_available, scale), healthy)
    assert spec.max_unavailable is not None
    return BudgetStatus(scale, max(0, scale - _scaled(spec.max_unavailable, scale)), healthy)


@dataclass(frozen=True)
class AutoscalerStatus:
    """An autoscaler's status at rest: current and desired replicas."""

    current: int
    desired: int


def autoscaler_status(autoscaler: AutoscalerState, workload: WorkloadState) -> AutoscalerStatus:
    current = workload.spec.replicas
    desired = min(max(current, autoscaler.spec.min_replicas), autoscaler.effective_max)
    return AutoscalerStatus(current, desired)
