"""The control plane as kube-prometheus-stack scrapes it: API server, controller manager, scheduler, etcd, CoreDNS
and kube-proxy, each with the target labels of the chart's default ServiceMonitors and the families the default
rules read.

Where they run (kubeadm, as kind sets a cluster up): the API server, controller manager, scheduler and etcd are
static pods on every control-plane node, on the host network; CoreDNS is a two-replica Deployment (on the first
control-plane node, as kind places it) and kube-proxy a host-network DaemonSet on every node. A cluster that
declares no control-plane node has a managed control plane: only the API server (the ``kubernetes`` Service's
endpoint) is scraped, CoreDNS runs on the first node. The processes stay up through the node faults the simulated
cluster knows (a kubelet that stops answering leaves static pods and kube-proxy running); the scheduler and
controller manager are the leader-elected ones, so only the first control-plane node's scheduler schedules.
A profile that declares a stand-in workload in ``kube-system`` scraped under a component's job (to take it down
with a fault) gets that workload instead of the simulated component.

``control-plane-down`` stops a component (:attr:`SimulatedCluster.stopped_components`): a stopped scheduler
leaves discovery (:func:`discovered`; kubeadm's static pod goes with its mirror pod, and the controller manager
drops its endpoint from the chart's Service); a stopped controller manager stays discovered and does not answer
(:func:`answers`), as the endpoint controllers that would drop it run inside it; so does a stopped API server:
Prometheus's Kubernetes discovery watches through it and keeps its last targets while it cannot reach it.

These components are not Kubernetes objects of the simulated cluster (kube-state-metrics does not list them):
they exist for their scrape targets and their own metrics. Every counter runs at a steady healthy rate
(:mod:`conformance.sim.families.steady`); series a healthy component has no child for yet (5xx responses,
terminated requests, unavailable aggregated APIs) are absent, as on the real process.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conformance import versions
from conformance.sim.exposition import Exposed
from conformance.sim.families.steady import emit_histogram, exponential_bounds, fast_shares, steady_count
from conformance.sim.naming import name_suffix, revision_hash
from conformance.sim.state import NodeState
from conformance.sim.types import Labels, ScrapeTarget

if TYPE_CHECKING:
    from conformance.sim.cluster import SimulatedCluster

#: Scrape jobs of the chart (``jobLabel`` of each Service, ``component`` of the ``kubernetes`` Service).
APISERVER, CONTROLLER_MANAGER, SCHEDULER, ETCD, COREDNS, KUBE_PROXY = (
    "apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-etcd",
    "coredns",
    "kube-proxy",
)
#: Name prefixes of every family these targets serve (a wanted-names filter skips the others whole).
PREFIXES = (
    "apiserver_",
    "aggregator_",
    "rest_client_",
    "kubernetes_build_info",
    "process_",
    "scheduler_",
    "leader_election_",
    "etcd_",
    "coredns_",
    "kubeproxy_",
)
#: Target ids of the control plane start so (an application may well name its own scrape job ``apiserver``).
ID_PREFIX = "control-plane-"
COREDNS_REPLICAS = 2
#: The chart's kubeApiServer metricRelabelings drop every other bucket of the request-latency histograms.
APISERVER_KEPT_BOUNDS = (0.05, 0.1, 1.0, 5.0, 10.0, 30.0, 60.0)

_FAMILIES: dict[str, tuple[str, str]] = {
    "apiserver_request_total": (
        "counter",
        "[STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, "
        "resource, scope, component, and HTTP response code.",
    ),
    "apiserver_request_sli_duration_seconds": (
        "histogram",
        "[ALPHA] Response latency distribution (not counting webhook duration and priority & fairness queue "
        "wait times) in seconds for each verb, group, version, resource, subresource, scope and component.",
    ),
    "apiserver_client_certificate_expiration_seconds": (
        "histogram",
        "[ALPHA] Distribution of the remaining lifetime on the certificate used to authenticate a request.",
    ),
    "aggregator_unavailable_apiservice": (
        "gauge",
        "[ALPHA] Gauge of APIServices which are marked as unavailable broken down by APIService name.",
    ),
    "apiserver_storage_objects": (
        "gauge",
        "[STABLE] Number of stored objects at the time of last check split by kind. In case of a fetching "
        "error, the value will be -1.",
    ),
    "rest_client_requests_total": (
        "counter",
        "[ALPHA] Number of HTTP requests, partitioned by status code, method, and host.",
    ),
    "kubernetes_build_info": (
        "gauge",
        "[ALPHA] A metric with a constant '1' value labeled by major, minor, git version, git commit, git tree "
        "state, build date, Go version, and compiler from which Kubernetes was built, and platform on which it "
        "is running.",
    ),
    "process_start_time_seconds": ("gauge", "Start time of the process since unix epoch in seconds."),
    "leader_election_master_status": (
        "gauge",
        "[ALPHA] Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 "
        "indicates master. 'name' is the string used to identify the lease. Please make sure to group by name.",
    ),
    "scheduler_scheduling_attempt_duration_seconds": (
        "histogram",
        "[STABLE] Scheduling attempt latency in seconds (scheduling algorithm + binding)",
    ),
    "scheduler_scheduling_algorithm_duration_seconds": ("histogram", "[ALPHA] Scheduling algorithm latency in seconds"),
    "scheduler_pod_scheduling_sli_duration_seconds": (
        "histogram",
        "[BETA] E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and "
        "might involve multiple scheduling attempts.",
    ),
    "scheduler_schedule_attempts_total": (
        "counter",
        "[STABLE] Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be "
        "scheduled, while 'error' means an internal scheduler problem.",
    ),
    "etcd_server_has_leader": ("gauge", "Whether or not a leader exists. 1 is existence, 0 is not."),
    "etcd_server_is_leader": ("gauge", "Whether or not this member is a leader. 1 if is, 0 otherwise."),
    "etcd_server_leader_changes_seen_total": ("counter", "The number of leader changes seen."),
    "etcd_server_proposals_committed_total": ("gauge", "The total number of consensus proposals committed."),
    "etcd_server_proposals_applied_total": ("gauge", "The total number of consensus proposals applied."),
    "etcd_server_proposals_pending": ("gauge", "The current number of pending proposals to commit."),
    "etcd_server_proposals_failed_total": ("counter", "The total number of failed proposals seen."),
    "etcd_mvcc_db_total_size_in_bytes": (
        "gauge",
        "Total size of the underlying database physically allocated in bytes.",
    ),
    "etcd_mvcc_db_total_size_in_use_in_bytes": (
        "gauge",
        "Total size of the underlying database logically in use in bytes.",
    ),
    "etcd_server_quota_backend_bytes": ("gauge", "Current backend storage quota size in bytes."),
    "etcd_server_version": ("gauge", "Which version is running. 1 for 'server_version' label with current version."),
    "coredns_build_info": (
        "gauge",
        "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.",
    ),
    "coredns_dns_requests_total": ("counter", "Counter of DNS requests made per zone, protocol and family."),
    "coredns_dns_responses_total": ("counter", "Counter of response status codes."),
    "coredns_panics_total": ("counter", "A metrics that counts the number of panics."),
    "kubeproxy_sync_proxy_rules_duration_seconds": ("histogram", "[ALPHA] SyncProxyRules latency in seconds"),
    "kubeproxy_sync_proxy_rules_last_timestamp_seconds": (
        "gauge",
        "[ALPHA] The last time proxy rules were successfully synced",
    ),
}

#: API server traffic of a small healthy cluster: (verb, group, version, resource, scope, code, requests a second).
_REQUESTS: tuple[tuple[str, str, str, str, str, str, float], ...] = (
    ("GET", "", "v1", "pods", "resource", "200", 2.0),
    ("GET", "", "v1", "nodes", "resource", "200", 1.0),
    ("GET", "coordination.k8s.io", "v1", "leases", "resource", "200", 1.5),
    ("GET", "", "v1", "configmaps", "resource", "404", 0.05),
    ("LIST", "", "v1", "pods", "namespace", "200", 0.3),
    ("LIST", "", "v1", "pods", "cluster", "200", 0.1),
    ("LIST", "apps", "v1", "deployments", "cluster", "200", 0.05),
    ("WATCH", "", "v1", "pods", "cluster", "200", 0.02),
    ("POST", "", "v1", "events", "namespace", "201", 0.2),
    ("PUT", "coordination.k8s.io", "v1", "leases", "resource", "200", 1.5),
    ("PATCH", "", "v1", "nodes", "resource", "200", 0.1),
    ("DELETE", "", "v1", "pods", "resource", "200", 0.01),
)
#: Local APIServices of a kind cluster (aggregator_unavailable_apiservice reports every one).
_API_SERVICES = (
    "v1.",
    "v1.apps",
    "v1.authentication.k8s.io",
    "v1.authorization.k8s.io",
    "v1.batch",
    "v1.coordination.k8s.io",
    "v1.networking.k8s.io",
    "v1.policy",
    "v1.rbac.authorization.k8s.io",
    "v1.storage.k8s.io",
    "v2.autoscaling",
)
#: Requests a second that authenticate with a client certificate (kubelets, controller manager, scheduler).
CLIENT_CERT_REQUESTS_PER_S = 1.0
#: kubeadm issues one-year certificates.
CERTIFICATE_LIFETIME_S = 365 * 86400.0
_CERT_BOUNDS = (0, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 345600, 604800, 2592000, 7776000, 15552000, 31104000)


@dataclass(frozen=True)
class _Placement:
    """Where one component instance runs: its pod name (None for the API server, whose Service has no
    pods behind it) and the node."""

    job: str
    node: NodeState
    pod: str | None
    address: str
    port: int


def control_plane_nodes(cluster: SimulatedCluster) -> list[NodeState]:
    return [node for node in cluster.nodes.values() if node.spec.role == "control-plane"]


def _placements(cluster: SimulatedCluster) -> Iterator[_Placement]:
    masters = control_plane_nodes(cluster)
    first = masters[0] if masters else next(iter(cluster.nodes.values()))
    if not masters:
        yield _Placement(APISERVER, first, None, "172.18.0.1", 6443)
    for node in masters:
        yield _Placement(APISERVER, node, None, node.ip, 6443)
        yield _Placement(CONTROLLER_MANAGER, node, f"kube-controller-manager-{node.name}", node.ip, 10257)
        yield _Placement(SCHEDULER, node, f"kube-scheduler-{node.name}", node.ip, 10259)
        yield _Placement(ETCD, node, f"etcd-{node.name}", node.ip, 2381)
    template = revision_hash(cluster.seed, "kube-system", "coredns", 1)
    for replica in range(COREDNS_REPLICAS):
        suffix = name_suffix(cluster.seed, "pod", "kube-system", "coredns", replica)
        # Pod addresses from the top of the node's range, clear of those the simulated pods get from the bottom.
        ip = f"10.244.{first.index}.{250 - replica}"
        yield _Placement(COREDNS, first, f"coredns-{template}-{suffix}", ip, 9153)
    for node in cluster.nodes.values():
        suffix = name_suffix(cluster.seed, "pod", "kube-system", "kube-proxy", node.name)
        yield _Placement(KUBE_PROXY, node, f"kube-proxy-{suffix}", node.ip, 10249)


def stood_in(cluster: SimulatedCluster) -> set[str]:
    """The control-plane jobs a profile stands in for with workloads of its own: a workload it declares in
    ``kube-system`` and scrapes under a component's job replaces that component's simulated targets, so a fault on
    the stand-in (``target-down``) takes the job down as a whole, as the profile means it to."""
    jobs = {APISERVER, CONTROLLER_MANAGER, SCHEDULER, ETCD, COREDNS, KUBE_PROXY}
    return {
        spec.scrape.job
        for spec in cluster.env.workloads
        if spec.namespace == "kube-system" and spec.scrape is not None and spec.scrape.job in jobs
    }


def targets(cluster: SimulatedCluster) -> list[ScrapeTarget]:
    """The control plane's scrape targets, labelled as the chart's ServiceMonitors label them (none for a
    component the profile stands in for, see :func:`stood_in`)."""
    found: list[ScrapeTarget] = []
    replaced = stood_in(cluster)
    for place in _placements(cluster):
        if place.job in replaced:
            continue
        labels: Labels = {"job": place.job, "instance": f"{place.address}:{place.port}"}
        if place.job == APISERVER:
            labels |= {"namespace": "default", "service": "kubernetes", "endpoint": "https"}
        else:
            service = f"{cluster.release}-{place.job if place.job != ETCD else 'kube-etcd'}"
            labels |= {"namespace": "kube-system", "service": service, "endpoint": "http-metrics"}
            labels["pod"] = place.pod or ""
            if place.job == COREDNS:  # the only one that declares its metrics port on its container
                labels["container"] = "coredns"
        target_id = ID_PREFIX + (place.pod or f"{place.job}-{place.node.name}")
        found.append(ScrapeTarget(target_id, place.job, "/metrics", False, labels, node=place.node.name))
    return found


def simulated_jobs(cluster: SimulatedCluster) -> set[str]:
    """The control-plane jobs the simulated cluster runs itself (not stood in for), stopped or not."""
    replaced = stood_in(cluster)
    return {place.job for place in _placements(cluster) if place.job not in replaced}


def discovered(cluster: SimulatedCluster, target: ScrapeTarget) -> bool:
    """Whether Prometheus discovers ``target`` now. A stopped scheduler (a kubeadm static pod: the kubelet deletes
    its mirror pod, and the controller manager's endpoint controllers drop it from the chart's Service) has left
    discovery, unless the controller manager is stopped too: then nobody updates the endpoints. A stopped
    controller manager stays discovered for that reason, and a stopped API server because Prometheus's
    Kubernetes discovery watches through it and keeps its last target set while it cannot reach it (client-go's
    reflector retries, its store unchanged)."""
    if not serves(target) or target.job not in cluster.stopped_components:
        return True
    return target.job != SCHEDULER or CONTROLLER_MANAGER in cluster.stopped_components


def answers(cluster: SimulatedCluster, target: ScrapeTarget) -> bool:
    """Whether the component behind ``target`` answers scrapes (a stopped one does not: ``up`` 0 while it is
    still discovered)."""
    return target.job not in cluster.stopped_components


def serves(target: ScrapeTarget) -> bool:
    """Whether ``target`` is one of the control plane's (see :func:`targets`)."""
    return target.id.startswith(ID_PREFIX)


def emit(cluster: SimulatedCluster, target: ScrapeTarget, t: float, out: Exposed) -> None:
    """What the component behind ``target`` serves at ``t``."""
    for name, (type_, help_) in _FAMILIES.items():
        out.declare(name, type_, help_)
    node = cluster.nodes[target.node or ""]
    started = node.created
    leader = node is _leader(cluster)
    if target.job != COREDNS:
        out.add("process_start_time_seconds", {}, cluster.epoch + started)
    if target.job in (APISERVER, CONTROLLER_MANAGER, SCHEDULER, KUBE_PROXY):
        out.add("kubernetes_build_info", _build_info(), 1)
    if target.job == APISERVER:
        _apiserver(cluster, started, t, out)
    elif target.job == CONTROLLER_MANAGER:
        out.add("leader_election_master_status", {"name": "kube-controller-manager"}, 1 if leader else 0)
    elif target.job == SCHEDULER:
        out.add("leader_election_master_status", {"name": "kube-scheduler"}, 1 if leader else 0)
        if leader:
            _scheduler(cluster, out)
    elif target.job == ETCD:
        _etcd(cluster, node, started, t, leader, out)
    elif target.job == COREDNS:
        _coredns(started, t, out)
    elif target.job == KUBE_PROXY:
        _kube_proxy(cluster, started, t, out)


def _leader(cluster: SimulatedCluster) -> NodeState | None:
    masters = control_plane_nodes(cluster)
    return masters[0] if masters else None


def _build_info() -> Labels:
    return {
        "build_date": "2025-08-27T12:00:00Z",
        "compiler": "gc",
        "git_commit": "0000000000000000000000000000000000000000",
        "git_tree_state": "clean",
        "git_version": versions.KUBERNETES,
        "go_version": "go1.24.6",
        "major": "1",
        "minor": versions.kubernetes_minor(),
        "platform": "linux/amd64",
    }


def _apiserver(cluster: SimulatedCluster, started: float, t: float, out: Exposed) -> None:
    sli_bounds = list(APISERVER_KEPT_BOUNDS)
    for verb, group, version, resource, scope, code, per_s in _REQUESTS:
        count = steady_count(per_s, started, t)
        base = {"component": "apiserver", "group": group, "resource": resource, "scope": scope}
        base |= {"subresource": "", "verb": verb, "version": version}
        out.add("apiserver_request_total", {**base, "code": code, "dry_run": ""}, count)
        if verb != "WATCH":  # long-running requests are not in the latency SLI
            typical = 0.02 if verb in ("GET", "PUT", "PATCH", "POST", "DELETE") else 0.05
            emit_histogram(
                out, "apiserver_request_sli_duration_seconds", base, count, fast_shares(sli_bounds, typical), typical
            )
    certs = steady_count(CLIENT_CERT_REQUESTS_PER_S, started, t)
    remaining = CERTIFICATE_LIFETIME_S - (t - started)
    shares = {float(bound): (1.0 if remaining <= bound else 0.0) for bound in _CERT_BOUNDS}
    emit_histogram(out, "apiserver_client_certificate_expiration_seconds", {}, certs, shares, remaining)
    for name in _API_SERVICES:
        out.add("aggregator_unavailable_apiservice", {"name": name}, 0)
    objects = {
        "pods": len(cluster.pods),
        "nodes": len(cluster.nodes),
        "namespaces": len(cluster.env.namespaces),
        "deployments.apps": sum(1 for w in cluster.workloads if w.kind == "Deployment"),
        "statefulsets.apps": sum(1 for w in cluster.workloads if w.kind == "StatefulSet"),
        "daemonsets.apps": sum(1 for w in cluster.workloads if w.kind == "DaemonSet"),
        "persistentvolumeclaims": len(cluster.claims),
        "jobs.batch": len(cluster.jobs),
    }
    for resource, value in objects.items():
        out.add("apiserver_storage_objects", {"resource": resource}, value)
    for method, per_s in (("GET", 0.5), ("PUT", 0.1)):
        out.add(
            "rest_client_requests_total",
            {"code": "200", "host": "[::1]:6443", "method": method},
            steady_count(per_s, started, t),
        )


def _scheduler(cluster: SimulatedCluster, out: Exposed) -> None:
    # Every pod the cluster made was scheduled once: the counts follow the pods created, never decreasing.
    scheduled = float(sum(w.pods_created for w in cluster.workloads) + len(cluster.jobs))
    bounds = exponential_bounds(0.001, 2, 15)
    out.add("scheduler_schedule_attempts_total", {"profile": "default-scheduler", "result": "scheduled"}, scheduled)
    attempt = {"profile": "default-scheduler", "result": "scheduled"}
    emit_histogram(
        out, "scheduler_scheduling_attempt_duration_seconds", attempt, scheduled, fast_shares(bounds, 0.004), 0.004
    )
    emit_histogram(
        out, "scheduler_scheduling_algorithm_duration_seconds", {}, scheduled, fast_shares(bounds, 0.002), 0.002
    )
    sli_bounds = exponential_bounds(0.01, 2, 20)
    emit_histogram(
        out,
        "scheduler_pod_scheduling_sli_duration_seconds",
        {"attempts": "1"},
        scheduled,
        fast_shares(sli_bounds, 0.01),
        0.01,
    )


def _etcd(cluster: SimulatedCluster, node: NodeState, started: float, t: float, leader: bool, out: Exposed) -> None:
    proposals = steady_count(3.0, started, t)
    out.add("etcd_server_has_leader", {}, 1)
    out.add("etcd_server_is_leader", {}, 1 if leader else 0)
    out.add("etcd_server_leader_changes_seen_total", {}, 1)
    out.add("etcd_server_proposals_committed_total", {}, proposals)
    out.add("etcd_server_proposals_applied_total", {}, proposals)
    out.add("etcd_server_proposals_pending", {}, 0)
    out.add("etcd_server_proposals_failed_total", {}, 0)
    out.add("etcd_mvcc_db_total_size_in_bytes", {}, 24 * 2**20)
    out.add("etcd_mvcc_db_total_size_in_use_in_bytes", {}, 18 * 2**20)
    out.add("etcd_server_quota_backend_bytes", {}, 2 * 2**30)
    out.add("etcd_server_version", {"server_version": versions.ETCD}, 1)


def _coredns(started: float, t: float, out: Exposed) -> None:
    server = {"server": "dns://:53", "zone": "."}
    out.add("coredns_build_info", {"goversion": "go1.24.2", "revision": "", "version": versions.COREDNS}, 1)
    for record, per_s in (("A", 4.0), ("AAAA", 4.0)):
        labels = {**server, "proto": "udp", "family": "1", "type": record}
        out.add("coredns_dns_requests_total", {**labels, "view": ""}, steady_count(per_s, started, t))
    responses = {**server, "view": "", "plugin": "kubernetes"}
    out.add("coredns_dns_responses_total", {**responses, "rcode": "NOERROR"}, steady_count(5.0, started, t))
    out.add("coredns_dns_responses_total", {**responses, "rcode": "NXDOMAIN"}, steady_count(3.0, started, t))
    out.add("coredns_panics_total", {}, 0)


def _kube_proxy(cluster: SimulatedCluster, started: float, t: float, out: Exposed) -> None:
    syncs = steady_count(1 / 30.0, started, t)  # the iptables proxier's periodic resync, every 30 s
    bounds = exponential_bounds(0.001, 2, 15)
    emit_histogram(out, "kubeproxy_sync_proxy_rules_duration_seconds", {}, syncs, fast_shares(bounds, 0.02), 0.02)
    last = started + syncs * 30.0
    out.add("kubeproxy_sync_proxy_rules_last_timestamp_seconds", {}, cluster.epoch + last)
