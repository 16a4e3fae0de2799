"""Stand-in workloads rendered from the profile's Environment: the same declarations the live twin simulates.

Every declared container becomes a ``busybox:1.36`` container with the declared name and resources (so
cAdvisor and kube-state-metrics report them as the pack expects, and faults can exec ``sh``, ``df``, ``awk``);
a workload with a scrape job gets a ``metrics`` sidecar running the stand-in exporter
(``data/standin/exporter.py`` beside this module, in ``python:3.12-alpine``), a Service and a ServiceMonitor whose
job label is the declared job. Claims are PersistentVolumeClaims (on kind bound to size-limited local volumes, see
:func:`local_volumes`); jobs are CronJobs or Jobs that succeed. Everything carries the run's labels.

On kind every stand-in pod is pinned to its workers (:func:`conformance.kube.layout.pod_placement`): Deployments,
StatefulSets and Jobs to the workloads worker, DaemonSets to the workloads and monitoring workers, so no node
fault stops a stand-in another scenario is judged on. On an existing cluster the scheduler places them.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from conformance.kube import labels as lb
from conformance.kube.layout import pod_placement
from conformance.kube.placement import Placement
from conformance.kube.stack import CAPTURE_NAME, CAPTURE_PORT
from conformance.model.workloads import (
    AutoscalerSpec,
    ContainerSpec,
    DisruptionBudgetSpec,
    Environment,
    QuotaSpec,
    VolumeClaimSpec,
    WorkloadSpec,
)
from conformance.quantities import format_quota

Obj = dict[str, Any]
BUSYBOX = "busybox:1.36"
PYTHON = "python:3.12-alpine"
EXPORTER_CONFIGMAP = "alert-conformance-standin"
LOCAL_STORAGE_CLASS = "alert-conformance-local"
LOCAL_VOLUME_ROOT = "/mnt/alert-conformance"
#: kind's tmpfs-backed volumes stay small: the alerts use ratios, and tmpfs costs memory on the host
LOCAL_VOLUME_MAX_BYTES = 256 * 2**20
JOB_LABEL = "alert-conformance/job"


def script(name: str) -> str:
    return resources.files("conformance.kube").joinpath(f"data/standin/{name}").read_text(encoding="utf-8")


def _container(spec: ContainerSpec) -> Obj:
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    if spec.cpu_limit_cores is not None:
        limits["cpu"] = f"{round(spec.cpu_limit_cores * 1000)}m"
    if spec.memory_limit_bytes is not None:
        limits["memory"] = str(spec.memory_limit_bytes)
    if spec.cpu_request_cores is not None:
        requests["cpu"] = f"{round(spec.cpu_request_cores * 1000)}m"
    if spec.memory_request_bytes is not None:
        requests["memory"] = str(spec.memory_request_bytes)
    return {
        "name": spec.name,
        "image": BUSYBOX,
        "command": ["sh", "-c", "exec sleep 2147483647"],
        "resources": {"limits": limits, "requests": requests},
    }


def exporter_config(workload: WorkloadSpec) -> Obj:
    assert workload.scrape is not None
    http = workload.http
    return {
        "port": workload.scrape.port,
        "vendor_metrics": [
            {"name": m.name, "type": m.type, "labels": m.labels, "rate_per_second": m.rate_per_second, "value": m.value}
            for m in workload.vendor_metrics
        ],
        "http": None
        if http is None
        else {
            "requests_per_second": http.requests_per_second,
            "error_ratio": http.error_ratio,
            "latency_seconds": http.latency_seconds,
            "status_label": http.status_label,
            "handler": http.handler,
            "method": http.method,
            "buckets": list(http.buckets),
        },
        "extra_metrics": list(workload.scrape.extra_metrics),
    }


def selector(workload: str) -> dict[str, str]:
    """The labels that select a stand-in workload's pods (its controller's, and a disruption budget's)."""
    return {"app.kubernetes.io/name": workload, "alert-conformance/standin": workload}


def render_workload(
    workload: WorkloadSpec, namespace: str, run_id: str, release: str, *, pinned: bool = False
) -> list[Obj]:
    """The workload, its Service and ServiceMonitor; ``pinned``: kept on its kind workers."""
    select = selector(workload.name)
    labels = {**workload.labels, **select, **lb.managed_labels(run_id, created=True)}
    containers = [_container(c) for c in workload.containers]
    volumes = [{"name": claim, "persistentVolumeClaim": {"claimName": claim}} for claim in workload.volume_claims]
    for container in containers[:1]:
        if volumes:
            container["volumeMounts"] = [
                {"name": claim, "mountPath": f"/data/{claim}"} for claim in workload.volume_claims
            ]
    if workload.scrape is not None:
        containers.append(
            {
                "name": "metrics",
                "image": PYTHON,
                "command": ["python", "/opt/standin/exporter.py"],
                "env": [{"name": "EXPORTER_CONFIG", "value": json.dumps(exporter_config(workload))}],
                "ports": [{"name": "metrics", "containerPort": workload.scrape.port}],
                "volumeMounts": [{"name": "standin", "mountPath": "/opt/standin"}],
            }
        )
        volumes.append({"name": "standin", "configMap": {"name": EXPORTER_CONFIGMAP}})
    pod_spec: Obj = {"containers": containers, "terminationGracePeriodSeconds": 1}
    if pinned:
        pod_spec.update(pod_placement("daemonset" if workload.kind == "DaemonSet" else "workloads"))
    if volumes:
        pod_spec["volumes"] = volumes
    spec: Obj = {
        "selector": {"matchLabels": select},
        "template": {"metadata": {"labels": {**workload.labels, **select}}, "spec": pod_spec},
    }
    if workload.kind != "DaemonSet":
        spec["replicas"] = workload.replicas
    if workload.kind == "StatefulSet":
        spec["serviceName"] = workload.name
    meta = {"name": workload.name, "namespace": namespace, "labels": labels}
    out: list[Obj] = [{"apiVersion": "apps/v1", "kind": workload.kind, "metadata": meta, "spec": spec}]
    if workload.scrape is not None:
        service_labels = {**labels, JOB_LABEL: workload.scrape.job}
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": workload.name, "namespace": namespace, "labels": service_labels},
                "spec": {
                    "selector": select,
                    "ports": [{"name": "metrics", "port": workload.scrape.port, "targetPort": workload.scrape.port}],
                },
            }
        )
        out.append(
            {
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "ServiceMonitor",
                "metadata": {
                    "name": workload.name,
                    "namespace": namespace,
                    "labels": {**lb.managed_labels(run_id, created=True), "release": release},
                },
                "spec": {
                    "jobLabel": JOB_LABEL,
                    "selector": {"matchLabels": {JOB_LABEL: workload.scrape.job}},
                    "endpoints": [{"port": "metrics", "path": workload.scrape.path}],
                },
            }
        )
    return out


def render(placement: Placement, run_id: str, release: str, *, storage_class: str | None) -> list[Obj]:
    """Every stand-in object, namespaces first, in an order the API server accepts."""
    env = placement.environment
    pinned = placement.layout is not None
    out: list[Obj] = []
    targets = sorted({placement.namespace(ns) for ns in env.namespaces} & placement.standin_namespaces)
    for namespace in targets:
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace, "labels": lb.managed_labels(run_id, created=True)},
            }
        )
        out.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": EXPORTER_CONFIGMAP,
                    "namespace": namespace,
                    "labels": lb.managed_labels(run_id, created=True),
                },
                "data": {"exporter.py": script("exporter.py")},
            }
        )
    for claim in env.volume_claims:
        namespace = placement.namespace(claim.namespace)
        if namespace in placement.standin_namespaces:
            out.append(_claim(claim, namespace, run_id, storage_class))
    for workload in env.workloads:
        namespace = placement.namespace(workload.namespace)
        if namespace in placement.standin_namespaces:
            out.extend(render_workload(workload, namespace, run_id, release, pinned=pinned))
    for job in env.jobs:
        namespace = placement.namespace(job.namespace)
        if namespace not in placement.standin_namespaces:
            continue
        job_pod: Obj = {
            "restartPolicy": "Never",
            "containers": [{"name": "job", "image": job.image, "command": ["sh", "-c", f"sleep {job.run_seconds:g}"]}],
        }
        if pinned:
            job_pod.update(pod_placement("workloads"))
        template = {"spec": {"backoffLimit": 0, "template": {"spec": job_pod}}}
        meta = {
            "name": job.cronjob or job.name,
            "namespace": namespace,
            "labels": lb.managed_labels(run_id, created=True),
        }
        if job.cronjob:
            out.append(
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "metadata": meta,
                    "spec": {"schedule": "*/30 * * * *", "jobTemplate": template},
                }
            )
        else:
            out.append({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, **template})
    out.extend(render_policies(placement, run_id))
    return out


def render_policies(placement: Placement, run_id: str) -> list[Obj]:
    """The declared autoscalers, quotas and disruption budgets, after the workloads they name."""
    env = placement.environment
    out: list[Obj] = []
    items: tuple[AutoscalerSpec | QuotaSpec | DisruptionBudgetSpec, ...] = (
        *env.autoscalers,
        *env.quotas,
        *env.disruption_budgets,
    )
    for item in items:
        namespace = placement.namespace(item.namespace)
        if namespace not in placement.standin_namespaces:
            continue
        meta = {"name": item.name, "namespace": namespace, "labels": lb.managed_labels(run_id, created=True)}
        if isinstance(item, AutoscalerSpec):
            out.append(_autoscaler(item, env, meta))
        elif isinstance(item, QuotaSpec):
            hard = {resource: format_quota(value, resource) for resource, value in item.hard.items()}
            out.append({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta, "spec": {"hard": hard}})
        else:
            out.append(_budget(item, meta))
    return out


def _autoscaler(item: AutoscalerSpec, env: Environment, meta: Obj) -> Obj:
    """An autoscaling/v2 HorizontalPodAutoscaler on CPU utilization. kind has no metrics-server: the autoscaler
    cannot read utilization, so it leaves the workload's replicas as declared (within its bounds)."""
    kind = env.workload(item.namespace, item.workload).kind
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": item.workload},
            "minReplicas": item.min_replicas,
            "maxReplicas": item.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": item.cpu_utilization},
                    },
                }
            ],
        },
    }


def _budget(item: DisruptionBudgetSpec, meta: Obj) -> Obj:
    spec: Obj = {"selector": {"matchLabels": selector(item.workload)}}
    if item.min_available is not None:
        spec["minAvailable"] = item.min_available
    else:
        spec["maxUnavailable"] = item.max_unavailable
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta, "spec": spec}


def _claim(claim: VolumeClaimSpec, namespace: str, run_id: str, storage_class: str | None) -> Obj:
    size = (
        min(claim.capacity_bytes, LOCAL_VOLUME_MAX_BYTES)
        if storage_class == LOCAL_STORAGE_CLASS
        else claim.capacity_bytes
    )
    spec: Obj = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": str(size)}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": claim.name, "namespace": namespace, "labels": lb.managed_labels(run_id, created=True)},
        "spec": spec,
    }


def local_volumes(placement: Placement, node: str, run_id: str) -> list[tuple[str, int, Obj]]:
    """kind: per claim, a tmpfs path on ``node`` (size-limited) and a local PersistentVolume bound to it.

    kind's default local-path provisioner uses hostPath volumes, for which the kubelet reports no
    ``kubelet_volume_stats_*``; a ``local`` volume does report them, from statfs of its path, and a tmpfs of a
    set size makes that statfs the volume's own, not the node's disk.
    """
    out: list[tuple[str, int, Obj]] = []
    for claim in placement.environment.volume_claims:
        namespace = placement.namespace(claim.namespace)
        size = min(claim.capacity_bytes, LOCAL_VOLUME_MAX_BYTES)
        path = f"{LOCAL_VOLUME_ROOT}/{namespace}-{claim.name}"
        pv = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": f"alert-conformance-{namespace}-{claim.name}"[:63],
                "labels": lb.managed_labels(run_id, created=True),
            },
            "spec": {
                "capacity": {"storage": str(size)},
                "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Delete",
                "storageClassName": LOCAL_STORAGE_CLASS,
                "claimRef": {"namespace": namespace, "name": claim.name},
                "local": {"path": path},
                "nodeAffinity": {
                    "required": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}
                                ]
                            }
                        ]
                    }
                },
            },
        }
        out.append((path, size, pv))
    return out


def local_storage_class(run_id: str) -> Obj:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": LOCAL_STORAGE_CLASS, "labels": lb.managed_labels(run_id, created=True)},
        "provisioner": "kubernetes.io/no-provisioner",
        "volumeBindingMode": "WaitForFirstConsumer",
    }


def capture_manifests(namespace: str, run_id: str, *, placement: Placement | None = None) -> list[Obj]:
    """The capture webhook: a ConfigMap with capture.py, a Deployment running it, and its Service.

    Given a kind ``placement``, the webhook runs on the worker reserved for monitoring: on any other worker a
    node fault could stop it while it is the one thing that must hear the notification.
    """
    labels = {"app.kubernetes.io/name": CAPTURE_NAME}
    managed = {**lb.managed_labels(run_id, created=True), **labels}
    pod_spec: Obj = {
        "containers": [
            {
                "name": "capture",
                "image": PYTHON,
                "command": ["python", "/opt/capture/capture.py"],
                "ports": [{"containerPort": CAPTURE_PORT}],
                "volumeMounts": [{"name": "code", "mountPath": "/opt/capture"}],
            }
        ],
        "volumes": [{"name": "code", "configMap": {"name": CAPTURE_NAME}}],
    }
    if placement is not None and placement.layout is not None:
        pod_spec.update(pod_placement("monitoring"))
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": CAPTURE_NAME, "namespace": namespace, "labels": managed},
            "data": {"capture.py": script("capture.py")},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": CAPTURE_NAME, "namespace": namespace, "labels": managed},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": pod_spec},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": CAPTURE_NAME, "namespace": namespace, "labels": managed},
            "spec": {"selector": labels, "ports": [{"port": CAPTURE_PORT, "targetPort": CAPTURE_PORT}]},
        },
    ]


def capture_route(namespace: str, run_id: str, selector_labels: dict[str, str], capture_namespace: str) -> Obj:
    """Existing cluster: an AlertmanagerConfig beside the real routing (``continue: true``), scoped by the
    operator to ``namespace``, sending to the capture webhook."""
    from conformance.kube.stack import capture_url

    return {
        "apiVersion": "monitoring.coreos.com/v1alpha1",
        "kind": "AlertmanagerConfig",
        "metadata": {
            "name": "alert-conformance-capture",
            "namespace": namespace,
            "labels": {**lb.managed_labels(run_id, created=True), **selector_labels},
        },
        "spec": {
            "route": {
                "receiver": "capture",
                "continue": True,
                "groupBy": ["..."],
                "groupWait": "10s",
                "groupInterval": "30s",
                "repeatInterval": "1h",
            },
            "receivers": [
                {
                    "name": "capture",
                    "webhookConfigs": [
                        {"url": capture_url(capture_namespace) + f"/r/cluster/{namespace}", "sendResolved": True}
                    ],
                }
            ],
        },
    }
