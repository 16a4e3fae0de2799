"""The monitoring stack's own simulated parts: the Prometheus Operator and the config-reloader sidecars of the
Prometheus and Alertmanager pods, as kube-prometheus-stack's ServiceMonitors scrape them.

Prometheus and Alertmanager themselves are real processes in the live twin, scraped there as themselves
(:mod:`conformance.twin.selfscrape`); the operator and the reloaders are not run, so they are simulated here,
healthy: every sync succeeds, every reload succeeds. Their jobs carry the chart's Service names for the Helm
release: ``<release>-operator``; the reloaders sit behind the Prometheus and Alertmanager Services, so their job is
``<release>-prometheus`` / ``<release>-alertmanager`` and their endpoint ``reloader-web``. Like the control plane
they are not objects of the simulated cluster (kube-state-metrics does not list them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.sim.exposition import Exposed
from conformance.sim.families.steady import steady_count
from conformance.sim.naming import name_suffix, revision_hash
from conformance.sim.types import ScrapeTarget

if TYPE_CHECKING:
    from conformance.sim.cluster import SimulatedCluster

ID_PREFIX = "stack-"
PREFIXES = ("prometheus_operator_", "reloader_", "process_")
#: The operator's controllers a default install runs (the Thanos Ruler controller runs with no ThanosRuler).
CONTROLLERS = ("alertmanager", "prometheus", "thanos")
#: What each controller selects on a default install: the chart's ServiceMonitors (Prometheus, Alertmanager,
#: the operator, kube-state-metrics, node-exporter, kubelet, and the six control-plane ones) and its rule files.
MANAGED = {
    "prometheus": {"servicemonitors": 12, "podmonitors": 0, "probes": 0, "prometheusrules": 35, "scrapeconfigs": 0},
    "alertmanager": {"alertmanagerconfigs": 0},
}
#: Each controller re-lists and resyncs its resources: per second, healthy.
RECONCILES_PER_S = 0.05
LISTS_PER_S = 1 / 300.0

_FAMILIES: dict[str, tuple[str, str]] = {
    "prometheus_operator_ready": ("gauge", "1 when the controller is ready to reconcile resources, 0 otherwise"),
    "prometheus_operator_syncs": ("gauge", "Number of objects per sync status (ok/failed)"),
    "prometheus_operator_managed_resources": (
        "gauge",
        "Number of resources managed by the operator's controller per state (selected/rejected)",
    ),
    "prometheus_operator_list_operations_total": ("counter", "Total number of list operations"),
    "prometheus_operator_list_operations_failed_total": ("counter", "Total number of list operations that failed"),
    "prometheus_operator_watch_operations_total": ("counter", "Total number of watch operations"),
    "prometheus_operator_watch_operations_failed_total": (
        "counter",
        "Total number of watch operations that failed",
    ),
    "prometheus_operator_reconcile_operations_total": ("counter", "Total number of reconcile operations"),
    "prometheus_operator_reconcile_errors_total": ("counter", "Number of errors that occurred during reconcile loops"),
    "prometheus_operator_status_update_operations_total": ("counter", "Total number of update operations to status"),
    "prometheus_operator_status_update_errors_total": (
        "counter",
        "Number of errors that occurred during update operations to status subresources",
    ),
    "prometheus_operator_node_address_lookup_errors_total": (
        "counter",
        "Number of times a node IP address could not be determined",
    ),
    "reloader_last_reload_successful": ("gauge", "Whether the last reload attempt was successful"),
    "reloader_reloads_total": ("counter", "Total number of reload requests."),
    "reloader_reloads_failures_total": ("counter", "Total number of reload requests that failed."),
    "process_start_time_seconds": ("gauge", "Start time of the process since unix epoch in seconds."),
}


def targets(cluster: SimulatedCluster) -> list[ScrapeTarget]:
    """The operator and the two reloaders, labelled as the chart's ServiceMonitors label them."""
    ns = cluster.env.monitoring_namespace
    release = cluster.release
    node = next(iter(cluster.nodes.values()))
    operator = f"{release}-operator"
    pod = f"{operator}-{revision_hash(cluster.seed, ns, operator, 1)}-{name_suffix(cluster.seed, 'pod', ns, operator)}"
    found = [
        ScrapeTarget(
            f"{ID_PREFIX}operator",
            operator,
            "/metrics",
            False,
            {
                "job": operator,
                "instance": f"10.244.{node.index}.240:10250",
                "namespace": ns,
                "service": operator,
                "endpoint": "https",
                "pod": pod,
                "container": release,
            },
            node=node.name,
        )
    ]
    for index, component in enumerate(("prometheus", "alertmanager")):
        service = f"{release}-{component}"
        found.append(
            ScrapeTarget(
                f"{ID_PREFIX}{component}-reloader",
                service,
                "/metrics",
                False,
                {
                    "job": service,
                    "instance": f"10.244.{node.index}.{241 + index}:8080",
                    "namespace": ns,
                    "service": service,
                    "endpoint": "reloader-web",
                    "pod": f"{component}-{service}-0",
                    "container": "config-reloader",
                },
                node=node.name,
            )
        )
    return found


def serves(target: ScrapeTarget) -> bool:
    return target.id.startswith(ID_PREFIX)


def emit(cluster: SimulatedCluster, target: ScrapeTarget, t: float, out: Exposed) -> None:
    for name, (type_, help_) in _FAMILIES.items():
        out.declare(name, type_, help_)
    started = next(iter(cluster.nodes.values())).created
    out.add("process_start_time_seconds", {}, cluster.epoch + started)
    if target.id.endswith("-reloader"):
        out.add("reloader_last_reload_successful", {}, 1)
        out.add("reloader_reloads_total", {}, 1)
        out.add("reloader_reloads_failures_total", {}, 0)
        return
    for controller in CONTROLLERS:
        labels = {"controller": controller}
        managed = 1 if controller != "thanos" else 0
        out.add("prometheus_operator_ready", labels, 1)
        out.add("prometheus_operator_syncs", {**labels, "status": "ok"}, managed)
        out.add("prometheus_operator_syncs", {**labels, "status": "failed"}, 0)
        for resource, selected in MANAGED.get(controller, {}).items():
            for state, count in (("selected", selected), ("rejected", 0)):
                out.add(
                    "prometheus_operator_managed_resources", {**labels, "resource": resource, "state": state}, count
                )
        lists = steady_count(LISTS_PER_S, started, t) + 1
        for family, value in (
            ("prometheus_operator_list_operations_total", lists),
            ("prometheus_operator_watch_operations_total", lists),
            ("prometheus_operator_reconcile_operations_total", steady_count(RECONCILES_PER_S, started, t)),
            ("prometheus_operator_status_update_operations_total", steady_count(RECONCILES_PER_S, started, t)),
        ):
            out.add(family, labels, value)
        for family in (
            "prometheus_operator_list_operations_failed_total",
            "prometheus_operator_watch_operations_failed_total",
            "prometheus_operator_reconcile_errors_total",
            "prometheus_operator_status_update_errors_total",
        ):
            out.add(family, labels, 0)
    out.add("prometheus_operator_node_address_lookup_errors_total", {}, 0)
