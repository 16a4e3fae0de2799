"""The workloads' own metrics endpoints: HTTP request counters and latency histograms, vendor metrics.

Request counts are whole numbers split by status (``200`` and ``500``, both pre-initialised at zero as client
libraries advise, so a 5xx rate is a rate from the start). Durations follow
:func:`conformance.sim.latency.latency_model`, so ``histogram_quantile`` reports the chosen latency.
An application's counters live in its process: a container restart starts them from zero again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.sim.exposition import Exposed, format_value
from conformance.sim.state import PodState

if TYPE_CHECKING:
    from conformance.sim.cluster import SimulatedCluster

EXTRA_METRICS: dict[str, tuple[str, str, float]] = {
    "pg_up": (
        "gauge",
        "Whether the last scrape of metrics from PostgreSQL was able to connect to the server (1 for yes, 0 for no).",
        1.0,
    ),
}
"""Sidecar metrics a ``ScrapeSpec.extra_metrics`` entry may name: type, help, healthy value."""

REQUESTS = "http_requests_total"
DURATION = "http_request_duration_seconds"


def _app_running(pod: PodState, t: float) -> bool:
    return pod.workload is not None and pod.container_running(pod.containers[0], t)


def add_rates(cluster: SimulatedCluster, t: float, rates: dict[tuple[Any, ...], float]) -> None:
    for pod in cluster.pods:
        workload = pod.workload
        if workload is None or not _app_running(pod, t):
            continue
        instance = pod.container_instance(pod.containers[0], t)
        http = workload.spec.http
        if http is not None:
            errors = workload.error_ratio if workload.error_ratio is not None else http.error_ratio
            rps = http.requests_per_second
            rates[("http", pod.uid, instance, "200")] = rps * (1.0 - errors)
            rates[("http", pod.uid, instance, "500")] = rps * errors
            model = cluster.latency_of(workload)
            if model is not None:
                for le in http.buckets:
                    rates[("http_le", pod.uid, instance, le)] = rps * model.share_at_most(le)
                rates[("http_sum", pod.uid, instance)] = rps * model.mean()
            rates[("http_le", pod.uid, instance, float("inf"))] = rps
        for metric in workload.spec.vendor_metrics:
            if metric.type == "counter":
                rate = workload.vendor_rates.get(metric.name, metric.rate_per_second)
                rates[("vendor", pod.uid, instance, metric.name)] = rate


def emit(cluster: SimulatedCluster, pod: PodState, t: float, out: Exposed) -> None:
    workload = pod.workload
    if workload is None:
        return
    instance = pod.container_instance(pod.containers[0], t)
    out.declare("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.")
    container = pod.containers[0]
    last_start = container.crash.last_start_by(t) if container.crash else None
    started = last_start if last_start is not None else pod.scheduled_at + 1.0
    out.add("process_start_time_seconds", {}, cluster.epoch + started)
    http = workload.spec.http
    if http is not None:
        out.declare(REQUESTS, "counter", "Total number of HTTP requests by method, handler and status.")
        out.declare(DURATION, "histogram", "HTTP request duration in seconds.")
        base = {"method": http.method, "handler": http.handler}
        for status in ("200", "500"):
            out.add(REQUESTS, {**base, http.status_label: status}, cluster.count(("http", pod.uid, instance, status)))
        for le in (*sorted(http.buckets), float("inf")):
            value = cluster.count(("http_le", pod.uid, instance, le))
            out.add(DURATION, {**base, "le": format_value(le)}, value, suffix="_bucket")
        out.add(DURATION, base, cluster.acc.get(("http_sum", pod.uid, instance), 0.0), suffix="_sum")
        out.add(DURATION, base, cluster.count(("http_le", pod.uid, instance, float("inf"))), suffix="_count")
    for metric in workload.spec.vendor_metrics:
        out.declare(metric.name, metric.type, metric.help or f"{metric.name} (declared by the profile)")
        if metric.type == "counter":
            out.add(metric.name, dict(metric.labels), cluster.count(("vendor", pod.uid, instance, metric.name)))
        else:
            out.add(metric.name, dict(metric.labels), metric.value)
    scrape = workload.spec.scrape
    for name in scrape.extra_metrics if scrape else ():
        type_, help_, value = EXTRA_METRICS[name]
        out.declare(name, type_, help_)
        out.add(name, {}, value)
