"""kube-state-metrics v2: the object state of nodes, pods, controllers, jobs, claims and namespaces.

Label sets follow kube-state-metrics' docs (docs/metrics/*): every pod series carries ``namespace``, ``pod``
and ``uid``; ``*_status_condition`` style families have one series per status (true/false/unknown) valued
0 or 1; reason families (waiting, terminated, last terminated) exist only while that state does.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from conformance import versions
from conformance.sim.exposition import Exposed
from conformance.sim.naming import hex_id
from conformance.sim.state import (
    EVICTION_HARD_MEMORY,
    POD_READY_S,
    PROGRESS_DEADLINE_S,
    TERMINATION_GRACE_S,
    ContainerState,
    NodeState,
    PodState,
    VolumeState,
    WorkloadState,
)
from conformance.sim.types import Labels

if TYPE_CHECKING:
    from conformance.sim.cluster import SimulatedCluster

GAUGE = "gauge"
COUNTER = "counter"
_STATUSES = ("true", "false", "unknown")
_POD_PHASES = ("Pending", "Succeeded", "Failed", "Unknown", "Running")
_POD_REASONS = ("Evicted", "NodeAffinity", "NodeLost", "Shutdown", "UnexpectedAdmissionError")
_JOB_FAILURE_REASONS = ("BackoffLimitExceeded", "DeadlineExceeded", "Evicted")
_OS_IMAGE = "Debian GNU/Linux 12 (bookworm)"
_KUBELET_VERSION = versions.KUBERNETES

_FAMILIES: dict[str, tuple[str, str]] = {
    "kube_namespace_created": (GAUGE, "Unix creation timestamp"),
    "kube_namespace_labels": (GAUGE, "Kubernetes labels converted to Prometheus labels."),
    "kube_namespace_status_phase": (GAUGE, "kubernetes namespace status phase."),
    "kube_node_info": (GAUGE, "Information about a cluster node."),
    "kube_node_labels": (GAUGE, "Kubernetes labels converted to Prometheus labels."),
    "kube_node_role": (GAUGE, "The role of a cluster node."),
    "kube_node_created": (GAUGE, "Unix creation timestamp"),
    "kube_node_spec_unschedulable": (GAUGE, "Whether a node can schedule new pods."),
    "kube_node_spec_taint": (GAUGE, "The taint of a cluster node."),
    "kube_node_status_capacity": (GAUGE, "The capacity for different resources of a node."),
    "kube_node_status_allocatable": (
        GAUGE,
        "The allocatable for different resources of a node that are available for scheduling.",
    ),
    "kube_node_status_condition": (GAUGE, "The condition of a cluster node."),
    "kube_node_status_addresses": (GAUGE, "Node address information."),
    "kube_pod_info": (GAUGE, "Information about pod."),
    "kube_pod_ips": (GAUGE, "Pod IP addresses."),
    "kube_pod_start_time": (GAUGE, "Start time in unix timestamp for a pod."),
    "kube_pod_created": (GAUGE, "Unix creation timestamp"),
    "kube_pod_deletion_timestamp": (GAUGE, "Unix deletion timestamp"),
    "kube_pod_owner": (GAUGE, "Information about the Pod's owner."),
    "kube_pod_labels": (GAUGE, "Kubernetes labels converted to Prometheus labels."),
    "kube_pod_restart_policy": (GAUGE, "Describes the restart policy in use by this pod."),
    "kube_pod_status_phase": (GAUGE, "The pods current phase."),
    "kube_pod_status_qos_class": (GAUGE, "The pods current qosClass."),
    "kube_pod_status_ready": (GAUGE, "Describes whether the pod is ready to serve requests."),
    "kube_pod_status_ready_time": (GAUGE, "Readiness achieved time in unix timestamp for a pod."),
    "kube_pod_status_initialized_time": (GAUGE, "Initialized time in unix timestamp for a pod."),
    "kube_pod_status_scheduled": (GAUGE, "Describes the status of the scheduling process for the pod."),
    "kube_pod_status_unschedulable": (GAUGE, "Describes the unschedulable status for the pod."),
    "kube_pod_status_scheduled_time": (GAUGE, "Unix timestamp when pod moved into scheduled status"),
    "kube_pod_status_reason": (GAUGE, "The pod status reasons"),
    "kube_pod_spec_volumes_persistentvolumeclaims_info": (
        GAUGE,
        "Information about persistentvolumeclaim volumes in a pod.",
    ),
    "kube_pod_spec_volumes_persistentvolumeclaims_readonly": (
        GAUGE,
        "Describes whether a persistentvolumeclaim is mounted read only.",
    ),
    "kube_pod_container_info": (GAUGE, "Information about a container in a pod."),
    "kube_pod_container_status_waiting": (
        GAUGE,
        "Describes whether the container is currently in waiting state.",
    ),
    "kube_pod_container_status_waiting_reason": (
        GAUGE,
        "Describes the reason the container is currently in waiting state.",
    ),
    "kube_pod_container_status_running": (
        GAUGE,
        "Describes whether the container is currently in running state.",
    ),
    "kube_pod_container_state_started": (GAUGE, "Start time in unix timestamp for a pod container."),
    "kube_pod_container_status_terminated": (
        GAUGE,
        "Describes whether the container is currently in terminated state.",
    ),
    "kube_pod_container_status_terminated_reason": (
        GAUGE,
        "Describes the reason the container is currently in terminated state.",
    ),
    "kube_pod_container_status_last_terminated_reason": (
        GAUGE,
        "Describes the last reason the container was in terminated state.",
    ),
    "kube_pod_container_status_last_terminated_exitcode": (
        GAUGE,
        "Describes the exit code for the last container in terminated state.",
    ),
    "kube_pod_container_status_last_terminated_timestamp": (
        GAUGE,
        "Last terminated time for a pod container in unix timestamp.",
    ),
    "kube_pod_container_status_ready": (
        GAUGE,
        "Describes whether the containers readiness check succeeded.",
    ),
    "kube_pod_container_status_restarts_total": (
        COUNTER,
        "The number of container restarts per container.",
    ),
    "kube_pod_container_resource_requests": (
        GAUGE,
        "The number of requested request resource by a container.",
    ),
    "kube_pod_container_resource_limits": (GAUGE, "The number of requested limit resource by a container."),
    "kube_deployment_created": (GAUGE, "Unix creation timestamp"),
    "kube_deployment_labels": (GAUGE, "Kubernetes labels converted to Prometheus labels."),
    "kube_deployment_metadata_generation": (
        GAUGE,
        "Sequence number representing a specific generation of the desired state.",
    ),
    "kube_deployment_spec_paused": (
        GAUGE,
        "Whether the deployment is paused and will not be processed by the deployment controller.",
    ),
    "kube_deployment_spec_replicas": (GAUGE, "Number of desired pods for a deployment."),
    "kube_deployment_spec_strategy_rollingupdate_max_surge": (
        GAUGE,
        "Maximum number of replicas that can be scheduled above the desired number of "
        "replicas during a rolling update of a deployment.",
    ),
    "kube_deployment_spec_strategy_rollingupdate_max_unavailable": (
        GAUGE,
        "Maximum number of unavailable replicas during a rolling update of a deployment.",
    ),
    "kube_deployment_status_condition": (GAUGE, "The current status conditions of a deployment."),
    "kube_deployment_status_observed_generation": (
        GAUGE,
        "The generation observed by the deployment controller.",
    ),
    "kube_deployment_status_replicas": (GAUGE, "The number of replicas per deployment."),
    "kube_deployment_status_replicas_available": (
        GAUGE,
        "The number of available replicas per deployment.",
    ),
    "kube_deployment_status_replicas_ready": (GAUGE, "The number of ready replicas per deployment."),
    "kube_deployment_status_replicas_unavailable": (
        GAUGE,
        "The number of unavailable replicas per deployment.",
    ),
    "kube_deployment_status_replicas_updated": (GAUGE, "The number of updated replicas per deployment."),
    "kube_replicaset_created": (GAUGE, "Unix creation timestamp"),
    "kube_replicaset_labels": (GAUGE, "Kubernetes labels converted to Prometheus labels."),
    "kube_replicaset_metadata_generation": (
        GAUGE,
        "Sequence number representing a specific generation of the desired state.",
    ),
    "kube_replicaset_owner": (GAUGE, "Information about the ReplicaSet's owner."),
    "kube_replicaset_spec_replicas": (GAUGE, "Number of desired pods for a ReplicaSet."),
    "kube_replicaset_status_fully_labeled_replicas": (
        GAUGE,
        "The number of fully labeled replicas per ReplicaSet.",
    ),
    "kube_replicaset_status_observed_generation": (
        GAUGE,
        "The generation observed by the ReplicaSet controller.",
    ),
    "kube_replicaset_status_ready_replicas": (GAUGE, "The number of ready replicas per ReplicaSet."),
    "kube_replicaset_status_replicas": (GAUGE, "The number of replicas per ReplicaSet."),
    "kube_statefulset_created": (GAUGE, "Unix creation timestamp"),
    "kube_statefulset_labels": (GAUGE, "Kubernetes labels converted to Prometheus labels."),
    "kube_statefulset_metadata_generation": (
        GAUGE,
        "Sequence number representing a specific generation of the desired state for the StatefulSet.",
    ),
    "kube_statefulset_ordinals_start": (GAUGE, "Start ordinal of the StatefulSet."),
    "kube_statefulset_persistentvolumeclaim_retention_policy": (
        GAUGE,
        "Count of retention policy for StatefulSet template PVCs",
    ),
    "kube_statefulset_replicas": (GAUGE, "Number of desired pods for a StatefulSet."),
    "kube_statefulset_status_current_revision": (
        GAUGE,
        "Indicates the version of the StatefulSet used to generate Pods in the sequence [0,currentReplicas).",
    ),
    "kube_statefulset_status_observed_generation": (
        GAUGE,
        "The generation observed by the StatefulSet controller.",
    ),
    "kube_statefulset_status_replicas": (GAUGE, "The number of replicas per StatefulSet."),
    "kube_statefulset_status_replicas_available": (
        GAUGE,
        "The number of available replicas per StatefulSet.",
    ),
    "kube_statefulset_status_replicas_current": (GAUGE, "The number of current replicas per StatefulSet."),
    "kube_statefulset_status_replicas_ready": (GAUGE, "The number of ready replicas per StatefulSet."),
    "kube_statefulset_status_replicas_updated": (GAUGE, "The number of updated replicas per StatefulSet."),
    "kube_statefulset_status_update_revision": (
        GAUGE,
        "Indicates the version of the StatefulSet used to generate Pods in the sequence "
        "[replicas-updatedReplicas,replicas)",
    ),
    "kube_daemonset_created": (GAUGE, "Unix creation timestamp"),
    "kube_daemonset_labels": (GAUGE, "Kubernetes labels converted to Prometheus labels."),
    "kube_daemonset_metadata_generation": (
        GAUGE,
        "Sequence number representing a specific generation of the desired state.",
    ),
    "kube_daemonset_status_current_number_scheduled": (
        GAUGE,
        "The number of nodes running at least one daemon pod and are supposed to.",
    ),
    "kube_daemonset_status_desired_number_scheduled": (
        GAUGE,
        "The number of nodes that should be running the daemon pod.",
    ),
    "kube_daemonset_status_number_available": (
        GAUGE,
        "The number of nodes that should be running the daemon pod and have one or more "
        "of the daemon pod running and available",
    ),
    "kube_daemonset_status_number_misscheduled": (
        GAUGE,
        "The number of nodes running a daemon pod but are not supposed to.",
    ),
    "kube_daemonset_status_number_ready": (
        GAUGE,
        "The number of nodes that should be running the daemon pod and have one or more "
        "of the daemon pod running and ready.",
    ),
    "kube_daemonset_status_number_unavailable": (
        GAUGE,
        "The number of nodes that should be running the daemon pod and have none of the "
        "daemon pod running and available",
    ),
    "kube_daemonset_status_observed_generation": (
        GAUGE,
        "The most recent generation observed by the daemon set controller.",
    ),
    "kube_daemonset_status_updated_number_scheduled": (
        GAUGE,
        "The total number of nodes that are running updated daemon pod",
    ),
    "kube_job_info": (GAUGE, "Information about job."),
    "kube_job_labels": (GAUGE, "Kubernetes labels converted to Prometheus labels."),
    "kube_job_owner": (GAUGE, "Information about the Job's owner."),
    "kube_job_created": (GAUGE, "Unix creation timestamp"),
    "kube_job_spec_parallelism": (
        GAUGE,
        "The maximum desired number of pods the job should run at any given time.",
    ),
    "kube_job_spec_completions": (
        GAUGE,
        "The desired number of successfully finished pods the job should be run with.",
    ),
    "kube_job_status_active": (GAUGE, "The number of actively running pods."),
    "kube_job_status_succeeded": (GAUGE, "The number of pods which reached Phase Succeeded."),
    "kube_job_status_failed": (
        GAUGE,
        "The number of pods which reached Phase Failed and the reason for failure.",
    ),
    "kube_job_status_start_time": (
        GAUGE,
        "StartTime represents time when the job was acknowledged by the Job Manager.",
    ),
    "kube_job_status_completion_time": (
        GAUGE,
        "CompletionTime represents time when the job was completed.",
    ),
    "kube_job_complete": (GAUGE, "The job has completed its execution."),
    "kube_job_failed": (GAUGE, "The job has failed its execution."),
    "kube_cronjob_info": (GAUGE, "Info about cronjob."),
    "kube_cronjob_labels": (GAUGE, "Kubernetes labels converted to Prometheus labels."),
    "kube_cronjob_created": (GAUGE, "Unix creation timestamp"),
    "kube_cronjob_status_active": (GAUGE, "Active holds pointers to currently running jobs."),
    "kube_cronjob_status_last_schedule_time": (
        GAUGE,
        "LastScheduleTime keeps information of when was the last time the job was successfully scheduled.",
    ),
    "kube_cronjob_status_last_successful_time": (
        GAUGE,
        "LastSuccessfulTime keeps information of when was the last time the job was completed successfully.",
    ),
    "kube_cronjob_spec_suspend": (
        GAUGE,
        "Suspend flag tells the controller to suspend subsequent executions.",
    ),
    "kube_cronjob_next_schedule_time": (
        GAUGE,
        "Next time the cronjob should be scheduled. The time after lastScheduleTime, or "
        "after the cron job's creation time if it's never been scheduled. Use this to "
        "determine if the job is delayed.",
    ),
    "kube_cronjob_spec_successful_job_history_limit": (
        GAUGE,
        "Successful job history limit tells the controller how many completed jobs should be preserved.",
    ),
    "kube_cronjob_spec_failed_job_history_limit": (
        GAUGE,
        "Failed job history limit tells the controller how many failed jobs should be preserved.",
    ),
    "kube_persistentvolumeclaim_info": (GAUGE, "Information about persistent volume claim."),
    "kube_persistentvolumeclaim_labels": (GAUGE, "Kubernetes labels converted to Prometheus labels."),
    "kube_persistentvolumeclaim_created": (GAUGE, "Unix creation timestamp"),
    "kube_persistentvolumeclaim_access_mode": (
        GAUGE,
        "The access mode(s) specified by the persistent volume claim.",
    ),
    "kube_persistentvolumeclaim_status_phase": (
        GAUGE,
        "The phase the persistent volume claim is currently in.",
    ),
    "kube_persistentvolumeclaim_resource_requests_storage_bytes": (
        GAUGE,
        "The capacity of storage requested by the persistent volume claim.",
    ),
    "kube_persistentvolume_info": (GAUGE, "Information about persistentvolume."),
    "kube_persistentvolume_claim_ref": (GAUGE, "Information about the Persistent Volume Claim Reference."),
    "kube_persistentvolume_status_phase": (
        GAUGE,
        "The phase indicates if a volume is available, bound to a claim, or released by a claim.",
    ),
    "kube_persistentvolume_capacity_bytes": (GAUGE, "Persistentvolume capacity in bytes."),
}


_NODE_ROLE_PREFIX = "node-role.kubernetes.io/"


def _declare(out: Exposed) -> None:
    for name, (type_, help_) in _FAMILIES.items():
        out.declare(name, type_, help_)


def emit(cluster: SimulatedCluster, t: float, out: Exposed) -> None:
    """Every kube-state-metrics family for the cluster's state at ``t``."""
    _declare(out)
    # Each section is skipped when none of its families is wanted (see Exposed.wanted): same result, cheaper.
    if out.wants("kube_namespace_"):
        _namespaces(cluster, t, out)
    if out.wants("kube_node_"):
        for node in cluster.nodes.values():
            _node(cluster, node, t, out)
    if out.wants("kube_pod_"):
        for pod in sorted(cluster.pods, key=lambda p: (p.namespace, p.name)):
            _pod(cluster, pod, t, out)
    sections = {"Deployment": ("kube_deployment_", "kube_replicaset_"), "StatefulSet": ("kube_statefulset_",)}
    for workload in cluster.workloads:
        if not out.wants(*sections.get(workload.kind, ("kube_daemonset_",))):
            continue
        if workload.kind == "Deployment":
            _deployment(cluster, workload, t, out)
        elif workload.kind == "StatefulSet":
            _statefulset(cluster, workload, t, out)
        else:
            _daemonset(cluster, workload, t, out)
    if out.wants("kube_job_", "kube_cronjob_"):
        _jobs(cluster, t, out)
    if out.wants("kube_persistentvolume"):
        _claims(cluster, t, out)


def _ts(cluster: SimulatedCluster, t: float) -> float:
    return cluster.epoch + t


def _status_series(out: Exposed, family: str, base: Labels, status: str, extra: Labels | None = None) -> None:
    for value in _STATUSES:
        out.add(family, {**base, **(extra or {}), "status": value}, 1.0 if value == status else 0.0)


def _namespaces(cluster: SimulatedCluster, t: float, out: Exposed) -> None:
    env = cluster.env
    names = {
        *env.namespaces,
        *(w.namespace for w in cluster.workloads),
        *(c.spec.namespace for c in cluster.claims),
        *(j.spec.namespace for j in cluster.jobs),
        env.monitoring_namespace,
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
    }
    for name in sorted(names):
        labels = {"namespace": name}
        out.add("kube_namespace_created", labels, _ts(cluster, -86400.0))
        out.add("kube_namespace_labels", labels, 1)
        for phase in ("Active", "Terminating"):
            out.add("kube_namespace_status_phase", {**labels, "phase": phase}, 1.0 if phase == "Active" else 0.0)


def _node(cluster: SimulatedCluster, node: NodeState, t: float, out: Exposed) -> None:
    base = {"node": node.name}
    spec = node.spec
    out.add(
        "kube_node_info",
        {
            **base,
            "kernel_version": versions.KERNEL,
            "os_image": _OS_IMAGE,
            "container_runtime_version": "containerd://1.7.18",
            "kubelet_version": _KUBELET_VERSION,
            "kubeproxy_version": "deprecated",
            "provider_id": f"kind://docker/kind/{node.name}",
            "pod_cidr": f"10.244.{node.index}.0/24",
            "system_uuid": node.uid,
            "internal_ip": node.ip,
        },
        1,
    )
    out.add("kube_node_labels", base, 1)
    # kube-state-metrics' node store: one series per node-role.kubernetes.io/<role> label the node carries.
    for label in sorted(cluster.node_labels(node)):
        if label.startswith(_NODE_ROLE_PREFIX):
            out.add("kube_node_role", {**base, "role": label.removeprefix(_NODE_ROLE_PREFIX)}, 1)
    out.add("kube_node_created", base, _ts(cluster, node.created))
    out.add("kube_node_spec_unschedulable", base, 1.0 if node.unschedulable else 0.0)
    for taint in node.taints(t):
        out.add("kube_node_spec_taint", {**base, "key": taint.key, "value": taint.value, "effect": taint.effect}, 1)
    capacity = {
        ("cpu", "core"): spec.cpu_cores,
        ("memory", "byte"): float(spec.memory_bytes),
        ("pods", "integer"): 110.0,
        ("ephemeral_storage", "byte"): 100.0 * 2**30,
        ("hugepages_1Gi", "byte"): 0.0,
        ("hugepages_2Mi", "byte"): 0.0,
    }
    for (resource, unit), value in capacity.items():
        labels = {**base, "resource": resource, "unit": unit}
        out.add("kube_node_status_capacity", labels, value)
        allocatable = value - EVICTION_HARD_MEMORY if resource == "memory" else value
        out.add("kube_node_status_allocatable", labels, allocatable)
    ready = node.ready_status(t)
    available = spec.memory_bytes * (1.0 - node.memory_used_ratio(t))
    memory_pressure = "true" if available < EVICTION_HARD_MEMORY else "false"
    conditions = {
        "Ready": ready,
        # When the node stops reporting, the node controller marks every condition Unknown.
        "MemoryPressure": "unknown" if ready == "unknown" else memory_pressure,
        "DiskPressure": "unknown" if ready == "unknown" else "false",
        "PIDPressure": "unknown" if ready == "unknown" else "false",
    }
    for condition, status in conditions.items():
        _status_series(out, "kube_node_status_condition", base, status, {"condition": condition})
    out.add("kube_node_status_addresses", {**base, "type": "InternalIP", "address": node.ip}, 1)
    out.add("kube_node_status_addresses", {**base, "type": "Hostname", "address": node.name}, 1)


def _qos(pod: PodState) -> str:
    specs = [c.spec for c in pod.containers]
    if all(
        s.cpu_limit_cores is None
        and s.cpu_request_cores is None
        and s.memory_limit_bytes is None
        and s.memory_request_bytes is None
        for s in specs
    ):
        return "BestEffort"
    if all(
        s.cpu_limit_cores is not None
        and s.memory_limit_bytes is not None
        and s.cpu_request_cores in (None, s.cpu_limit_cores)
        and s.memory_request_bytes in (None, s.memory_limit_bytes)
        for s in specs
    ):
        return "Guaranteed"
    return "Burstable"


def pod_claims(cluster: SimulatedCluster, pod: PodState) -> list[str]:
    """The claims a pod mounts: its workload's ``volume_claims`` and claims naming it in ``mounted_by``."""
    if pod.workload is None:
        return []
    names = list(pod.workload.spec.volume_claims)
    for claim in cluster.claims:
        if (
            claim.spec.mounted_by == pod.workload.name
            and claim.spec.namespace == pod.namespace
            and claim.spec.name not in names
        ):
            names.append(claim.spec.name)
    return names


def container_id(cluster: SimulatedCluster, pod: PodState, container: ContainerState, t: float) -> str:
    return hex_id(cluster.seed, pod.uid, container.name, pod.container_instance(container, t))


def _pod(cluster: SimulatedCluster, pod: PodState, t: float, out: Exposed) -> None:
    base = {"namespace": pod.namespace, "pod": pod.name, "uid": pod.uid}
    # The pod's own families and its containers' are skipped separately when none of them is wanted.
    if out.wanted is None or any(
        name.startswith("kube_pod_") and not name.startswith("kube_pod_container_") for name in out.wanted
    ):
        _pod_level(cluster, pod, base, t, out)
    if out.wants("kube_pod_container_"):
        for container in pod.containers:
            _container(cluster, pod, container, base, t, out)


def _pod_level(cluster: SimulatedCluster, pod: PodState, base: Labels, t: float, out: Exposed) -> None:
    node = cluster.nodes.get(pod.node) if pod.node else None
    host_network = pod.workload is not None and (pod.namespace, pod.workload.name) in cluster.host_network
    out.add(
        "kube_pod_info",
        {
            **base,
            "host_ip": node.ip if node else "",
            "pod_ip": pod.ip,
            "node": pod.node or "",
            "created_by_kind": pod.owner_kind,
            "created_by_name": pod.owner_name,
            "priority_class": "",
            "host_network": "true" if host_network else "false",
        },
        1,
    )
    if pod.ip:
        out.add("kube_pod_ips", {**base, "ip": pod.ip, "ip_family": "4"}, 1)
    out.add("kube_pod_created", base, _ts(cluster, pod.created))
    if pod.deleting_since is not None:
        # metadata.deletionTimestamp: the delete's time plus the pod's termination grace period.
        out.add("kube_pod_deletion_timestamp", base, _ts(cluster, pod.deleting_since + TERMINATION_GRACE_S))
    out.add(
        "kube_pod_owner",
        {**base, "owner_kind": pod.owner_kind, "owner_name": pod.owner_name, "owner_is_controller": "true"},
        1,
    )
    out.add("kube_pod_labels", base, 1)
    out.add("kube_pod_restart_policy", {**base, "type": "Never" if pod.job else "Always"}, 1)
    phase = pod.phase(t)
    for value in _POD_PHASES:
        out.add("kube_pod_status_phase", {**base, "phase": value}, 1.0 if value == phase else 0.0)
    qos = _qos(pod)
    for value in ("BestEffort", "Burstable", "Guaranteed"):
        out.add("kube_pod_status_qos_class", {**base, "qos_class": value}, 1.0 if value == qos else 0.0)
    ready = cluster.pod_ready(pod, t)
    for value in _STATUSES:
        out.add("kube_pod_status_ready", {**base, "condition": value}, 1.0 if value == str(ready).lower() else 0.0)
    if ready:
        last_starts = [c.crash.last_start_by(t) for c in pod.containers if c.crash]
        since = max([pod.scheduled_at + POD_READY_S, *(s for s in last_starts if s is not None)])
        out.add("kube_pod_status_ready_time", base, _ts(cluster, since))
    scheduled = pod.node is not None
    for value in _STATUSES:
        out.add(
            "kube_pod_status_scheduled", {**base, "condition": value}, 1.0 if value == str(scheduled).lower() else 0.0
        )
    if not scheduled:
        # The scheduler found no node: PodScheduled=False (reason Unschedulable), which kube-state-metrics turns
        # into this series; it exists only while that condition does.
        out.add("kube_pod_status_unschedulable", base, 1)
    if scheduled:
        out.add("kube_pod_status_scheduled_time", base, _ts(cluster, pod.scheduled_at))
        out.add("kube_pod_start_time", base, _ts(cluster, pod.scheduled_at))
        if pod.started(t):
            out.add("kube_pod_status_initialized_time", base, _ts(cluster, pod.scheduled_at + 1.0))
    for reason in _POD_REASONS:
        out.add("kube_pod_status_reason", {**base, "reason": reason}, 0)
    for claim in pod_claims(cluster, pod):
        claim_labels = {**base, "volume": claim, "persistentvolumeclaim": claim}
        out.add("kube_pod_spec_volumes_persistentvolumeclaims_info", claim_labels, 1)
        out.add("kube_pod_spec_volumes_persistentvolumeclaims_readonly", claim_labels, 0)


def _container(
    cluster: SimulatedCluster, pod: PodState, container: ContainerState, base: Labels, t: float, out: Exposed
) -> None:
    labels = {**base, "container": container.name}
    spec = container.spec
    resources = (
        ("cpu", "core", spec.cpu_request_cores, spec.cpu_limit_cores),
        ("memory", "byte", spec.memory_request_bytes, spec.memory_limit_bytes),
    )
    for resource, unit, request, limit in resources:
        res_labels = {**labels, "node": pod.node or "", "resource": resource, "unit": unit}
        # Kubernetes defaults a missing request to the limit.
        effective_request = request if request is not None else limit
        if effective_request is not None:
            out.add("kube_pod_container_resource_requests", res_labels, float(effective_request))
        if limit is not None:
            out.add("kube_pod_container_resource_limits", res_labels, float(limit))
    if pod.node is None:
        return  # no kubelet has reported container statuses for an unscheduled pod
    started_ever = pod.job is not None or pod.started(t)
    repository = container.image.split("@")[0]
    out.add(
        "kube_pod_container_info",
        {
            **labels,
            "image_spec": spec.image if not container.image_broken else container.image,
            "image": container.image,
            "image_id": f"{repository}@sha256:{hex_id(cluster.seed, container.image)}" if started_ever else "",
            "container_id": f"containerd://{container_id(cluster, pod, container, t)}" if started_ever else "",
        },
        1,
    )
    waiting_reason: str | None = None
    terminated_reason: str | None = None
    if pod.job is not None:
        if not pod.job.active(t):
            terminated_reason = "Error" if pod.job.failed else "Completed"
    elif container.image_broken:
        waiting_reason = "ImagePullBackOff"
    elif not pod.started(t):
        waiting_reason = "ContainerCreating"
    elif container.crash_waiting(t):
        waiting_reason = "CrashLoopBackOff"
    running = waiting_reason is None and terminated_reason is None
    out.add("kube_pod_container_status_waiting", labels, 1.0 if waiting_reason else 0.0)
    if waiting_reason:
        out.add("kube_pod_container_status_waiting_reason", {**labels, "reason": waiting_reason}, 1)
    out.add("kube_pod_container_status_running", labels, 1.0 if running else 0.0)
    if running:
        last_start = container.crash.last_start_by(t) if container.crash else None
        started = last_start if last_start is not None else pod.scheduled_at + 1.0
        out.add("kube_pod_container_state_started", labels, _ts(cluster, started))
    out.add("kube_pod_container_status_terminated", labels, 1.0 if terminated_reason else 0.0)
    if terminated_reason:
        out.add("kube_pod_container_status_terminated_reason", {**labels, "reason": terminated_reason}, 1)
    last = container.last_termination(t)
    if last is not None:
        out.add("kube_pod_container_status_last_terminated_reason", {**labels, "reason": last.reason}, 1)
        out.add("kube_pod_container_status_last_terminated_exitcode", labels, float(last.exit_code))
        out.add("kube_pod_container_status_last_terminated_timestamp", labels, _ts(cluster, last.at))
    # A silent node's pods lose their Ready condition, but their container statuses stay as last reported.
    ready = pod.container_ready(container, True, t)
    out.add("kube_pod_container_status_ready", labels, 1.0 if ready else 0.0)
    out.add("kube_pod_container_status_restarts_total", labels, float(container.restarts(t)))


def _active(cluster: SimulatedCluster, workload: WorkloadState) -> list[PodState]:
    return [p for p in cluster.pods_of(workload) if p.deleting_since is None]


def _deployment(cluster: SimulatedCluster, workload: WorkloadState, t: float, out: Exposed) -> None:
    base = {"namespace": workload.namespace, "deployment": workload.name}
    replicas = workload.spec.replicas
    pods = _active(cluster, workload)
    ready = sum(1 for p in pods if cluster.pod_ready(p, t))
    updated = sum(1 for p in pods if p.revision == workload.revision)
    max_unavailable = math.floor(replicas * 0.25)
    max_surge = math.ceil(replicas * 0.25)
    # The deployment controller: unavailable = all ReplicaSets' replicas - available, never negative.
    unavailable = max(0, len(pods) - ready)
    out.add("kube_deployment_created", base, _ts(cluster, workload.created))
    out.add("kube_deployment_labels", base, 1)
    out.add("kube_deployment_metadata_generation", base, workload.generation)
    out.add("kube_deployment_status_observed_generation", base, workload.generation)
    out.add("kube_deployment_spec_paused", base, 0)
    out.add("kube_deployment_spec_replicas", base, replicas)
    out.add("kube_deployment_spec_strategy_rollingupdate_max_surge", base, max_surge)
    out.add("kube_deployment_spec_strategy_rollingupdate_max_unavailable", base, max_unavailable)
    out.add("kube_deployment_status_replicas", base, len(pods))
    out.add("kube_deployment_status_replicas_ready", base, ready)
    out.add("kube_deployment_status_replicas_available", base, ready)
    out.add("kube_deployment_status_replicas_unavailable", base, unavailable)
    out.add("kube_deployment_status_replicas_updated", base, updated)
    if ready >= replicas - max_unavailable:
        available = ("true", "MinimumReplicasAvailable")
    else:
        available = ("false", "MinimumReplicasUnavailable")
    if workload.rollout_stuck and workload.rollout_started is not None:
        if t >= workload.rollout_started + PROGRESS_DEADLINE_S:
            progressing = ("false", "ProgressDeadlineExceeded")
        else:
            progressing = ("true", "ReplicaSetUpdated")
    else:
        progressing = ("true", "NewReplicaSetAvailable")
    for condition, (status, reason) in (("Available", available), ("Progressing", progressing)):
        _status_series(
            out, "kube_deployment_status_condition", base, status, {"condition": condition, "reason": reason}
        )
    for revision in workload.revisions:
        rs = f"{workload.name}-{revision}"
        rs_pods = [p for p in pods if p.revision == revision]
        rs_base = {"namespace": workload.namespace, "replicaset": rs}
        rs_ready = sum(1 for p in rs_pods if cluster.pod_ready(p, t))
        out.add("kube_replicaset_created", rs_base, _ts(cluster, workload.created))
        out.add("kube_replicaset_labels", rs_base, 1)
        out.add("kube_replicaset_metadata_generation", rs_base, 1)
        out.add("kube_replicaset_status_observed_generation", rs_base, 1)
        out.add(
            "kube_replicaset_owner",
            {**rs_base, "owner_kind": "Deployment", "owner_name": workload.name, "owner_is_controller": "true"},
            1,
        )
        out.add("kube_replicaset_spec_replicas", rs_base, len(rs_pods))
        out.add("kube_replicaset_status_replicas", rs_base, len(rs_pods))
        out.add("kube_replicaset_status_fully_labeled_replicas", rs_base, len(rs_pods))
        out.add("kube_replicaset_status_ready_replicas", rs_base, rs_ready)


def _statefulset(cluster: SimulatedCluster, workload: WorkloadState, t: float, out: Exposed) -> None:
    base = {"namespace": workload.namespace, "statefulset": workload.name}
    pods = _active(cluster, workload)
    ready = sum(1 for p in pods if cluster.pod_ready(p, t))
    current_revision = (
        workload.previous_revision if workload.rollout_stuck and workload.previous_revision else workload.revision
    )
    out.add("kube_statefulset_created", base, _ts(cluster, workload.created))
    out.add("kube_statefulset_labels", base, 1)
    out.add("kube_statefulset_metadata_generation", base, workload.generation)
    out.add("kube_statefulset_status_observed_generation", base, workload.generation)
    out.add("kube_statefulset_ordinals_start", base, 0)
    out.add(
        "kube_statefulset_persistentvolumeclaim_retention_policy",
        {**base, "when_deleted": "Retain", "when_scaled": "Retain"},
        1,
    )
    out.add("kube_statefulset_replicas", base, workload.spec.replicas)
    out.add("kube_statefulset_status_replicas", base, len(pods))
    out.add("kube_statefulset_status_replicas_ready", base, ready)
    out.add("kube_statefulset_status_replicas_available", base, ready)
    out.add("kube_statefulset_status_replicas_current", base, sum(1 for p in pods if p.revision == current_revision))
    out.add("kube_statefulset_status_replicas_updated", base, sum(1 for p in pods if p.revision == workload.revision))
    out.add("kube_statefulset_status_current_revision", {**base, "revision": f"{workload.name}-{current_revision}"}, 1)
    out.add("kube_statefulset_status_update_revision", {**base, "revision": f"{workload.name}-{workload.revision}"}, 1)


def _daemonset(cluster: SimulatedCluster, workload: WorkloadState, t: float, out: Exposed) -> None:
    base = {"namespace": workload.namespace, "daemonset": workload.name}
    nodes = {n.name for n in cluster.daemonset_nodes(workload, t)}
    pods = _active(cluster, workload)
    scheduled = [p for p in pods if p.node in nodes]
    ready = sum(1 for p in scheduled if cluster.pod_ready(p, t))
    out.add("kube_daemonset_created", base, _ts(cluster, workload.created))
    out.add("kube_daemonset_labels", base, 1)
    out.add("kube_daemonset_metadata_generation", base, workload.generation)
    out.add("kube_daemonset_status_observed_generation", base, workload.generation)
    out.add("kube_daemonset_status_desired_number_scheduled", base, len(nodes))
    out.add("kube_daemonset_status_current_number_scheduled", base, len({p.node for p in scheduled}))
    out.add("kube_daemonset_status_number_misscheduled", base, len(pods) - len(scheduled))
    out.add("kube_daemonset_status_number_ready", base, ready)
    out.add("kube_daemonset_status_number_available", base, ready)
    out.add("kube_daemonset_status_number_unavailable", base, max(0, len(nodes) - ready))
    out.add(
        "kube_daemonset_status_updated_number_scheduled",
        base,
        sum(1 for p in scheduled if p.revision == workload.revision),
    )


def _jobs(cluster: SimulatedCluster, t: float, out: Exposed) -> None:
    cronjobs: dict[tuple[str, str], list[float]] = {}
    for run in cluster.jobs:
        base = {"namespace": run.spec.namespace, "job_name": run.name}
        out.add("kube_job_info", base, 1)
        out.add("kube_job_labels", base, 1)
        out.add("kube_job_created", base, _ts(cluster, run.created))
        cron = run.spec.cronjob
        owner = (
            {"owner_kind": "CronJob", "owner_name": cron, "owner_is_controller": "true"}
            if cron
            else {
                "owner_kind": "",
                "owner_name": "",
                "owner_is_controller": "",
            }
        )
        out.add("kube_job_owner", {**base, **owner}, 1)
        out.add("kube_job_spec_parallelism", base, 1)
        out.add("kube_job_spec_completions", base, 1)
        out.add("kube_job_status_active", base, 1.0 if run.active(t) else 0.0)
        out.add("kube_job_status_succeeded", base, 1.0 if run.succeeded_by(t) else 0.0)
        if run.failed:
            for reason in _JOB_FAILURE_REASONS:
                out.add(
                    "kube_job_status_failed",
                    {**base, "reason": reason},
                    1.0 if reason == "BackoffLimitExceeded" else 0.0,
                )
        else:
            out.add("kube_job_status_failed", base, 0)
        out.add("kube_job_status_start_time", base, _ts(cluster, run.created))
        if run.completed is not None and run.succeeded_by(t):
            out.add("kube_job_status_completion_time", base, _ts(cluster, run.completed))
        # The Complete/Failed condition exists only once the run has finished; an active Job has neither.
        if run.failed or run.succeeded_by(t):
            condition_family = "kube_job_failed" if run.failed else "kube_job_complete"
            for value in _STATUSES:
                out.add(condition_family, {**base, "condition": value}, 1.0 if value == "true" else 0.0)
        if cron:
            cronjobs.setdefault((run.spec.namespace, cron), []).append(run.created)
    for (namespace, cron), created in sorted(cronjobs.items()):
        base = {"namespace": namespace, "cronjob": cron}
        successes = [
            r.completed
            for r in cluster.jobs
            if r.spec.cronjob == cron
            and r.spec.namespace == namespace
            and r.succeeded_by(t)
            and r.completed is not None
        ]
        active = sum(
            1 for r in cluster.jobs if r.spec.cronjob == cron and r.spec.namespace == namespace and r.active(t)
        )
        last = max(created)
        out.add("kube_cronjob_info", {**base, "schedule": "0 * * * *", "concurrency_policy": "Forbid"}, 1)
        out.add("kube_cronjob_labels", base, 1)
        out.add("kube_cronjob_created", base, _ts(cluster, -86400.0))
        out.add("kube_cronjob_status_active", base, active)
        out.add("kube_cronjob_status_last_schedule_time", base, _ts(cluster, last))
        if successes:
            out.add("kube_cronjob_status_last_successful_time", base, _ts(cluster, max(successes)))
        out.add("kube_cronjob_spec_suspend", base, 0)
        next_epoch = (math.floor(_ts(cluster, t) / 3600.0) + 1) * 3600.0
        out.add("kube_cronjob_next_schedule_time", base, next_epoch)
        out.add("kube_cronjob_spec_successful_job_history_limit", base, 3)
        out.add("kube_cronjob_spec_failed_job_history_limit", base, 1)


def _claims(cluster: SimulatedCluster, t: float, out: Exposed) -> None:
    for claim in cluster.claims:
        spec = claim.spec
        base = {"namespace": spec.namespace, "persistentvolumeclaim": spec.name}
        out.add(
            "kube_persistentvolumeclaim_info",
            {**base, "storageclass": spec.storage_class, "volumename": claim.volume_name, "volumemode": "Filesystem"},
            1,
        )
        out.add("kube_persistentvolumeclaim_labels", base, 1)
        out.add("kube_persistentvolumeclaim_created", base, _ts(cluster, claim.created))
        out.add("kube_persistentvolumeclaim_access_mode", {**base, "access_mode": "ReadWriteOnce"}, 1)
        for phase in ("Lost", "Bound", "Pending"):
            out.add(
                "kube_persistentvolumeclaim_status_phase", {**base, "phase": phase}, 1.0 if phase == "Bound" else 0.0
            )
        out.add("kube_persistentvolumeclaim_resource_requests_storage_bytes", base, float(spec.capacity_bytes))
        pv = {"persistentvolume": claim.volume_name}
        out.add("kube_persistentvolume_info", {**pv, "storageclass": spec.storage_class}, 1)
        out.add("kube_persistentvolume_claim_ref", {**pv, "name": spec.name, "claim_namespace": spec.namespace}, 1)
        for phase in ("Pending", "Available", "Bound", "Released", "Failed"):
            out.add("kube_persistentvolume_status_phase", {**pv, "phase": phase}, 1.0 if phase == "Bound" else 0.0)
        out.add("kube_persistentvolume_capacity_bytes", pv, float(spec.capacity_bytes))
    for volume in cluster.volumes:
        _volume(volume, t, out)


def _volume(volume: VolumeState, t: float, out: Exposed) -> None:
    """A PV of its own (no storage class, hostPath): its claimRef stays after the claim is deleted, as the PV
    controller leaves it on a Released or Failed volume."""
    pv = {"persistentvolume": volume.name}
    out.add(
        "kube_persistentvolume_info",
        {**pv, "storageclass": "", "host_path": volume.host_path, "reclaim_policy": volume.reclaim_policy},
        1,
    )
    out.add(
        "kube_persistentvolume_claim_ref",
        {**pv, "name": volume.claim_name, "claim_namespace": volume.claim_namespace},
        1,
    )
    phase = volume.phase(t)
    for value in ("Pending", "Available", "Bound", "Released", "Failed"):
        out.add("kube_persistentvolume_status_phase", {**pv, "phase": value}, 1.0 if value == phase else 0.0)
    out.add("kube_persistentvolume_capacity_bytes", pv, float(volume.capacity_bytes))
