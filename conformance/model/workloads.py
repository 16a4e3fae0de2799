"""What exists in the cluster a profile is proven on: nodes, workloads, volumes, jobs, scrape targets.

The same declarations drive the simulated cluster of the live twin (which turns them into the metric families
kube-state-metrics, kubelet/cAdvisor, node-exporter and the apps expose) and the stand-in manifests of the kind
backend. Quantities are plain numbers: bytes, CPU cores, requests per second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

WorkloadKind = Literal["Deployment", "StatefulSet", "DaemonSet"]
MetricType = Literal["counter", "gauge"]


@dataclass(frozen=True)
class NodeSpec:
    """A node. ``memory_bytes``/``cpu_cores`` are capacity; ``memory_used_ratio`` is the healthy baseline."""

    name: str
    cpu_cores: float = 8.0
    memory_bytes: int = 32 * 2**30
    memory_used_ratio: float = 0.4
    role: Literal["control-plane", "worker"] = "worker"
    labels: dict[str, str] = field(default_factory=dict)
    internal_ip: str = ""


@dataclass(frozen=True)
class ContainerSpec:
    """A container with its resources. ``*_usage_ratio`` is the healthy baseline as a fraction of the limit."""

    name: str
    image: str = "registry.k8s.io/pause:3.9"
    cpu_limit_cores: float | None = 1.0
    cpu_request_cores: float | None = 0.1
    memory_limit_bytes: int | None = 512 * 2**20
    memory_request_bytes: int | None = 128 * 2**20
    cpu_usage_ratio: float = 0.2
    memory_usage_ratio: float = 0.4


@dataclass(frozen=True)
class VendorMetricSpec:
    """A metric the vendor's own component exposes (Run:ai push/pull rates, controller reconcile errors ...).

    A counter grows at ``rate_per_second``; a gauge holds ``value``. ``documented`` is False when the metric's
    name is the reference pack's choice rather than something the vendor's document names.
    """

    name: str
    type: MetricType = "counter"
    labels: dict[str, str] = field(default_factory=dict)
    rate_per_second: float = 0.0
    value: float = 0.0
    help: str = ""
    documented: bool = False


@dataclass(frozen=True)
class HttpMetricsSpec:
    """An HTTP service's request metrics: ``http_requests_total`` and ``http_request_duration_seconds``.

    ``status_label`` is ``status`` or ``code`` as the app names it; ``latency_seconds`` is the typical request
    duration used to fill the histogram buckets ``buckets``.
    """

    requests_per_second: float = 10.0
    error_ratio: float = 0.0
    latency_seconds: float = 0.1
    status_label: str = "status"
    handler: str = "/predict"
    method: str = "POST"
    buckets: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class ScrapeSpec:
    """The workload is a scrape target of its own: Prometheus job name, port and path; ``up`` follows it."""

    job: str
    port: int = 8080
    path: str = "/metrics"
    extra_metrics: tuple[str, ...] = ()  # e.g. "pg_up" for a postgres-exporter sidecar


@dataclass(frozen=True)
class WorkloadSpec:
    """A Deployment, StatefulSet or DaemonSet and its pods. DaemonSets run one pod per schedulable node."""

    kind: WorkloadKind
    name: str
    namespace: str
    containers: tuple[ContainerSpec, ...]
    replicas: int = 1
    labels: dict[str, str] = field(default_factory=dict)
    scrape: ScrapeSpec | None = None
    http: HttpMetricsSpec | None = None
    vendor_metrics: tuple[VendorMetricSpec, ...] = ()
    volume_claims: tuple[str, ...] = ()
    node_selector: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VolumeClaimSpec:
    """A PersistentVolumeClaim whose volume reports ``kubelet_volume_stats_*`` (``used_ratio`` baseline)."""

    name: str
    namespace: str
    capacity_bytes: int = 10 * 2**30
    used_ratio: float = 0.3
    storage_class: str = "standard"
    mounted_by: str = ""  # workload name that mounts it; its pod's node reports the stats


@dataclass(frozen=True)
class JobSpec:
    """A batch Job, optionally owned by a CronJob; healthy runs succeed ``run_seconds`` after they start (a run
    younger than that is still active: a long ``run_seconds`` makes a job that is running)."""

    name: str
    namespace: str
    cronjob: str | None = None
    image: str = "busybox:1.36"
    run_seconds: float = 30.0


@dataclass(frozen=True)
class Environment:
    """Everything a profile declares to exist; the simulated cluster and the kind stand-ins are built from it."""

    nodes: tuple[NodeSpec, ...]
    namespaces: tuple[str, ...]
    workloads: tuple[WorkloadSpec, ...] = ()
    volume_claims: tuple[VolumeClaimSpec, ...] = ()
    jobs: tuple[JobSpec, ...] = ()
    monitoring_namespace: str = "monitoring"
    #: The nodes the profile's node faults take down or fill. The monitoring stack (kube-state-metrics) is kept
    #: off them where another node can run it, as the kind layout reserves a monitoring worker no fault touches:
    #: a fault on the node hosting kube-state-metrics would otherwise silence every kube_* series until the pod
    #: is evicted and rescheduled (over five minutes), and the alert under test would fire that much later.
    fault_nodes: frozenset[str] = frozenset()
    #: The chart's ``kube-state-metrics.selfMonitor.enabled`` (default false): kube-state-metrics' telemetry port
    #: is scraped too, where its own families (``kube_state_metrics_*``) are.
    ksm_self_monitor: bool = False

    def workload(self, namespace: str, name: str) -> WorkloadSpec:
        """The declared workload, or ``KeyError`` naming what was asked for."""
        for item in self.workloads:
            if item.namespace == namespace and item.name == name:
                return item
        raise KeyError(f"no workload {namespace}/{name} is declared")
