"""kube-state-metrics' families of HorizontalPodAutoscalers, ResourceQuotas and PodDisruptionBudgets.

Names, label sets and help texts are those of kube-state-metrics v2.20.0 (``conformance.versions``), read in its
``internal/store/horizontalpodautoscaler.go``, ``resourcequota.go`` and ``poddisruptionbudget.go`` at tag v2.20.0:

* every series carries ``namespace`` and the object's name label (``horizontalpodautoscaler``,
  ``resourcequota``, ``poddisruptionbudget``);
* ``kube_horizontalpodautoscaler_info`` adds ``scaletargetref_api_version`` (when the ref has one),
  ``scaletargetref_kind`` and ``scaletargetref_name``; ``spec_target_metric`` and ``status_target_metric`` add
  ``metric_name`` (``cpu`` for a Resource metric), ``metric_target_type`` (``value``, ``utilization`` or
  ``average``, one series per field set) and ``container`` (empty for a Resource metric, so absent once scraped);
  ``spec_min_replicas`` defaults to 1; ``status_condition`` has one series per condition and status
  (true/false/unknown) valued 0 or 1; ``spec_behavior_scale_*_tolerance`` exist only when the spec sets them
  (not here);
* ``kube_resourcequota`` adds ``resource`` and ``type`` (``hard`` from ``status.hard``, ``used`` from
  ``status.used``), valued as ``convertValueToFloat64`` does (CPU in cores, memory in bytes);
* ``kube_poddisruptionbudget_status_*`` are the status fields as the disruption controller writes them.

The ``*_labels`` and ``*_annotations`` families of these three kinds return no series unless kube-state-metrics
runs with an allow-list for them (``if len(allowLabelsList) == 0 { return &metric.Family{} }``); the chart sets
none, so they are not emitted. No object is being deleted, so no ``*_deletion_timestamp`` either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.sim import policies
from conformance.sim.exposition import Exposed

if TYPE_CHECKING:
    from conformance.sim.cluster import SimulatedCluster

GAUGE = "gauge"
_STATUSES = ("true", "false", "unknown")

FAMILIES: dict[str, str] = {
    "kube_horizontalpodautoscaler_info": "Information about this autoscaler.",
    "kube_horizontalpodautoscaler_metadata_generation": (
        "The generation observed by the HorizontalPodAutoscaler controller."
    ),
    "kube_horizontalpodautoscaler_spec_max_replicas": (
        "Upper limit for the number of pods that can be set by the autoscaler; cannot be smaller than MinReplicas."
    ),
    "kube_horizontalpodautoscaler_spec_min_replicas": (
        "Lower limit for the number of pods that can be set by the autoscaler, default 1."
    ),
    "kube_horizontalpodautoscaler_spec_target_metric": (
        "The metric specifications used by this autoscaler when calculating the desired replica count."
    ),
    "kube_horizontalpodautoscaler_status_target_metric": (
        "The current metric status used by this autoscaler when calculating the desired replica count."
    ),
    "kube_horizontalpodautoscaler_status_current_replicas": (
        "Current number of replicas of pods managed by this autoscaler."
    ),
    "kube_horizontalpodautoscaler_status_desired_replicas": (
        "Desired number of replicas of pods managed by this autoscaler."
    ),
    "kube_horizontalpodautoscaler_status_condition": "The condition of this autoscaler.",
    "kube_horizontalpodautoscaler_created": "Unix creation timestamp",
    "kube_resourcequota_created": "Unix creation timestamp",
    "kube_resourcequota": "Information about resource quota.",
    "kube_poddisruptionbudget_created": "Unix creation timestamp",
    "kube_poddisruptionbudget_status_current_healthy": "Current number of healthy pods",
    "kube_poddisruptionbudget_status_desired_healthy": "Minimum desired number of healthy pods",
    "kube_poddisruptionbudget_status_pod_disruptions_allowed": "Number of pod disruptions that are currently allowed",
    "kube_poddisruptionbudget_status_expected_pods": "Total number of pods counted by this disruption budget",
    "kube_poddisruptionbudget_status_observed_generation": (
        "Most recent generation observed when updating this PDB status"
    ),
}

#: The autoscaler's conditions at rest (see :mod:`conformance.sim.policies`).
_AT_REST = (("AbleToScale", "true"), ("ScalingActive", "true"), ("ScalingLimited", "false"))


def emit(cluster: SimulatedCluster, t: float, out: Exposed) -> None:
    """Every family above for the cluster's autoscalers, quotas and disruption budgets at ``t``."""
    for name, help_ in FAMILIES.items():
        out.declare(name, GAUGE, help_)
    if out.wants("kube_horizontalpodautoscaler_"):
        _autoscalers(cluster, out)
    if out.wants("kube_resourcequota"):
        _quotas(cluster, t, out)
    if out.wants("kube_poddisruptionbudget_"):
        _budgets(cluster, t, out)


def _autoscalers(cluster: SimulatedCluster, out: Exposed) -> None:
    for autoscaler in cluster.autoscalers:
        spec = autoscaler.spec
        workload = cluster.find_workload(spec.namespace, spec.workload)
        status = policies.autoscaler_status(autoscaler, workload)
        base = {"namespace": spec.namespace, "horizontalpodautoscaler": spec.name}
        ref = {"scaletargetref_api_version": "apps/v1", "scaletargetref_kind": workload.kind}
        out.add("kube_horizontalpodautoscaler_info", {**base, **ref, "scaletargetref_name": workload.name}, 1)
        out.add("kube_horizontalpodautoscaler_metadata_generation", base, autoscaler.generation)
        out.add("kube_horizontalpodautoscaler_spec_max_replicas", base, autoscaler.effective_max)
        out.add("kube_horizontalpodautoscaler_spec_min_replicas", base, spec.min_replicas)
        cpu = {**base, "metric_name": "cpu"}
        out.add(
            "kube_horizontalpodautoscaler_spec_target_metric",
            {**cpu, "metric_target_type": "utilization"},
            spec.cpu_utilization,
        )
        # At rest the pods' utilization is the target; the controller reports it as a share and as an average value.
        request = sum(c.cpu_request_cores or 0.0 for c in workload.spec.containers)
        out.add(
            "kube_horizontalpodautoscaler_status_target_metric",
            {**cpu, "metric_target_type": "utilization"},
            spec.cpu_utilization,
        )
        out.add(
            "kube_horizontalpodautoscaler_status_target_metric",
            {**cpu, "metric_target_type": "average"},
            round(request * spec.cpu_utilization / 100, 3),
        )
        out.add("kube_horizontalpodautoscaler_status_current_replicas", base, status.current)
        out.add("kube_horizontalpodautoscaler_status_desired_replicas", base, status.desired)
        for condition, state in _AT_REST:
            for value in _STATUSES:
                labels = {**base, "condition": condition, "status": value}
                out.add("kube_horizontalpodautoscaler_status_condition", labels, 1.0 if value == state else 0.0)
        out.add("kube_horizontalpodautoscaler_created", base, cluster.epoch + autoscaler.created)


def _quotas(cluster: SimulatedCluster, t: float, out: Exposed) -> None:
    for quota in cluster.quotas:
        spec = quota.spec
        base = {"namespace": spec.namespace, "resourcequota": spec.name}
        out.add("kube_resourcequota_created", base, cluster.epoch + quota.created)
        for resource in sorted(spec.hard):
            out.add("kube_resourcequota", {**base, "resource": resource, "type": "hard"}, quota.hard_of(resource))
        for resource in sorted(spec.hard):
            used = policies.quota_used(cluster, quota, resource, t)
            out.add("kube_resourcequota", {**base, "resource": resource, "type": "used"}, used)


def _budgets(cluster: SimulatedCluster, t: float, out: Exposed) -> None:
    for budget in cluster.budgets:
        spec = budget.spec
        workload = cluster.find_workload(spec.namespace, spec.workload)
        status = policies.budget_status(cluster, budget, workload, t)
        base = {"namespace": spec.namespace, "poddisruptionbudget": spec.name}
        out.add("kube_poddisruptionbudget_created", base, cluster.epoch + budget.created)
        out.add("kube_poddisruptionbudget_status_current_healthy", base, status.current_healthy)
        out.add("kube_poddisruptionbudget_status_desired_healthy", base, status.desired_healthy)
        out.add("kube_poddisruptionbudget_status_pod_disruptions_allowed", base, status.disruptions_allowed)
        out.add("kube_poddisruptionbudget_status_expected_pods", base, status.expected_pods)
        out.add("kube_poddisruptionbudget_status_observed_generation", base, budget.generation)
