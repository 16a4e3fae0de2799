"""The kubelet's health families on ``/metrics`` (PLEG relists, pod workers, its client certificate) and its
``/metrics/probes`` endpoint, which kube-prometheus-stack scrapes as a third kubelet target by default.

A kubeadm kubelet rotates its client certificate (``rotateCertificates: true``), so the client certificate
manager's TTL and renewal-error counter exist; it serves a self-signed certificate (``serverTLSBootstrap`` is
off), so the server certificate manager's ``kubelet_certificate_manager_server_ttl_seconds`` and
``kubelet_server_expiration_renew_errors`` do not. ``kubelet_evictions`` has a child only once a pod was evicted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.sim.exposition import Exposed
from conformance.sim.families.steady import DEFAULT_BOUNDS, emit_histogram, fast_shares, steady_count
from conformance.sim.state import NodeState

if TYPE_CHECKING:
    from conformance.sim.cluster import SimulatedCluster

#: kubeadm's kubelet client certificates last a year from the node's join.
CLIENT_CERTIFICATE_LIFETIME_S = 365 * 86400.0
#: The generic PLEG relists every second; a pod worker syncs each pod about once a minute.
RELIST_PER_S = 1.0
POD_SYNCS_PER_S = 1 / 60.0
#: The kubelet probes a container's readiness every 10 s (the default periodSeconds).
PROBE_PERIOD_S = 10.0

_FAMILIES: dict[str, tuple[str, str]] = {
    "kubelet_pleg_relist_duration_seconds": (
        "histogram",
        "[ALPHA] Duration in seconds for relisting pods in PLEG.",
    ),
    "kubelet_pod_worker_duration_seconds": (
        "histogram",
        "[ALPHA] Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync",
    ),
    "kubelet_certificate_manager_client_ttl_seconds": (
        "gauge",
        "[ALPHA] Gauge of the TTL (time-to-live) of the Kubelet's client certificate. The value is in seconds "
        "until certificate expiry (negative if already expired). If client certificate is invalid or unused, "
        "the value will be +INF.",
    ),
    "kubelet_certificate_manager_client_expiration_renew_errors": (
        "counter",
        "[ALPHA] Counter of certificate renewal errors.",
    ),
}
_PROBE_FAMILIES: dict[str, tuple[str, str]] = {
    "prober_probe_total": (
        "counter",
        "[ALPHA] Cumulative number of a liveness, readiness or startup probe for a container by result.",
    ),
}


def emit(cluster: SimulatedCluster, node: NodeState, t: float, out: Exposed) -> None:
    """The health families of ``node``'s kubelet (part of its ``/metrics``)."""
    for name, (type_, help_) in _FAMILIES.items():
        out.declare(name, type_, help_)
    started = node.created
    relists = steady_count(RELIST_PER_S, started, t)
    emit_histogram(out, "kubelet_pleg_relist_duration_seconds", {}, relists, fast_shares(DEFAULT_BOUNDS, 0.01), 0.01)
    pods = sum(1 for pod in cluster.pods if pod.node == node.name and pod.job is None)
    syncs = steady_count(POD_SYNCS_PER_S * max(1, pods), started, t)
    emit_histogram(
        out,
        "kubelet_pod_worker_duration_seconds",
        {"operation_type": "sync"},
        syncs,
        fast_shares(DEFAULT_BOUNDS, 0.05),
        0.05,
    )
    out.add("kubelet_certificate_manager_client_ttl_seconds", {}, CLIENT_CERTIFICATE_LIFETIME_S - (t - started))
    out.add("kubelet_certificate_manager_client_expiration_renew_errors", {}, 0)


def emit_probes(cluster: SimulatedCluster, node: NodeState, t: float, out: Exposed) -> None:
    """``/metrics/probes``: one readiness-probe counter per running container of the node's pods."""
    for name, (type_, help_) in _PROBE_FAMILIES.items():
        out.declare(name, type_, help_)
    for pod in sorted(cluster.pods, key=lambda p: (p.namespace, p.name)):
        if pod.node != node.name or pod.job is not None:
            continue
        for container in pod.containers:
            if not pod.container_running(container, t):
                continue
            labels = {
                "container": container.name,
                "namespace": pod.namespace,
                "pod": pod.name,
                "pod_uid": pod.uid,
                "probe_type": "Readiness",
                "result": "successful",
            }
            out.add("prober_probe_total", labels, steady_count(1 / PROBE_PERIOD_S, pod.created, t))
