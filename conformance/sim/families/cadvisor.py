"""cAdvisor as the kubelet serves it on ``/metrics/cadvisor`` (containerd, systemd cgroup driver).

Per pod there are three kinds of series, as on a kind node: the pod's cgroup (``container=""``, ``image=""``,
``name=""``), the sandbox ("pause") container (``container=""`` with the pause image; it alone carries the pod's
network counters, ``interface="eth0"``), and one per running application container. An exited container's
series disappear; its restart gets a new container ID, hence new series starting from zero.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from conformance.sim.exposition import Exposed
from conformance.sim.families import cadvisor_extra
from conformance.sim.families.ksm import container_id
from conformance.sim.state import ContainerState, NodeState, PodState

if TYPE_CHECKING:
    from conformance.sim.cluster import SimulatedCluster

PAUSE_IMAGE = "registry.k8s.io/pause:3.9"
CFS_PERIOD_S = 0.1
PAUSE_CPU_CORES = 0.0005
PAUSE_MEMORY_BYTES = 512 * 1024
BASELINE_NETWORK_BYTES_PER_S = 2000.0
BYTES_PER_PACKET = 1000.0
# Unlimited containers use this as the reference their usage ratios apply to.
UNLIMITED_CPU_REFERENCE = 0.1
UNLIMITED_MEMORY_REFERENCE = 256 * 2**20

_FAMILIES: dict[str, tuple[str, str]] = {
    "container_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed in seconds."),
    "container_cpu_user_seconds_total": ("counter", "Cumulative user cpu time consumed in seconds."),
    "container_cpu_system_seconds_total": ("counter", "Cumulative system cpu time consumed in seconds."),
    "container_cpu_cfs_periods_total": ("counter", "Number of elapsed enforcement period intervals."),
    "container_cpu_cfs_throttled_periods_total": ("counter", "Number of throttled period intervals."),
    "container_cpu_cfs_throttled_seconds_total": (
        "counter",
        "Total time duration the container has been throttled.",
    ),
    "container_memory_usage_bytes": (
        "gauge",
        "Current memory usage in bytes, including all memory regardless of when it was accessed",
    ),
    "container_memory_working_set_bytes": ("gauge", "Current working set in bytes."),
    "container_memory_rss": ("gauge", "Size of RSS in bytes."),
    "container_memory_cache": ("gauge", "Number of bytes of page cache memory."),
    "container_memory_swap": ("gauge", "Container swap usage in bytes."),
    "container_memory_mapped_file": ("gauge", "Size of memory mapped files in bytes."),
    "container_memory_failcnt": ("counter", "Number of memory usage hits limits"),
    "container_oom_events_total": ("counter", "Count of out of memory events observed for the container"),
    "container_spec_memory_limit_bytes": ("gauge", "Memory limit for the container."),
    "container_spec_memory_reservation_limit_bytes": (
        "gauge",
        "Memory reservation limit for the container.",
    ),
    "container_spec_memory_swap_limit_bytes": ("gauge", "Memory swap limit for the container."),
    "container_spec_cpu_period": ("gauge", "CPU period of the container."),
    "container_spec_cpu_quota": ("gauge", "CPU quota of the container."),
    "container_spec_cpu_shares": ("gauge", "CPU share of the container."),
    "container_start_time_seconds": ("gauge", "Start time of the container since unix epoch in seconds."),
    "container_last_seen": ("gauge", "Last time a container was seen by the exporter"),
    "container_network_receive_bytes_total": ("counter", "Cumulative count of bytes received"),
    "container_network_transmit_bytes_total": ("counter", "Cumulative count of bytes transmitted"),
    "container_network_receive_packets_total": ("counter", "Cumulative count of packets received"),
    "container_network_transmit_packets_total": ("counter", "Cumulative count of packets transmitted"),
    "container_network_receive_errors_total": (
        "counter",
        "Cumulative count of errors encountered while receiving",
    ),
    "container_network_transmit_errors_total": (
        "counter",
        "Cumulative count of errors encountered while transmitting",
    ),
    "container_network_receive_packets_dropped_total": (
        "counter",
        "Cumulative count of packets dropped while receiving",
    ),
    "container_network_transmit_packets_dropped_total": (
        "counter",
        "Cumulative count of packets dropped while transmitting",
    ),
}


def throttled_share(usage_ratio: float) -> float:
    """Share of CFS periods throttled at a CPU use of ``usage_ratio`` x the limit.

    Bursty work gets throttled before its average reaches the quota: nothing up to half the limit, then a
    quadratic rise to every period at the limit (25% at 0.75, 64% at 0.9, 81% at 0.95).
    """
    if usage_ratio <= 0.5:
        return 0.0
    return min(1.0, ((usage_ratio - 0.5) / 0.5) ** 2)


def usage_for_throttled_share(share: float) -> float:
    """The CPU use (x the limit) at which ``share`` of CFS periods is throttled: :func:`throttled_share` inverted."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"a share of throttled periods is between 0 and 1, got {share}")
    return 0.5 + 0.5 * math.sqrt(share)


def container_cpu_cores(container: ContainerState) -> float:
    spec = container.spec
    reference = spec.cpu_limit_cores or spec.cpu_request_cores or UNLIMITED_CPU_REFERENCE
    return container.cpu_usage_ratio() * reference


def container_working_set(container: ContainerState, t: float) -> float:
    spec = container.spec
    reference = spec.memory_limit_bytes or spec.memory_request_bytes or UNLIMITED_MEMORY_REFERENCE
    return container.memory_usage_ratio(t) * reference


def pod_has_sandbox(pod: PodState, t: float) -> bool:
    """Whether the pod's sandbox (cgroup and pause container) exists on its node."""
    return pod.job is None and pod.node is not None and t >= pod.scheduled_at + 1.0


def _running_containers(pod: PodState, t: float) -> list[ContainerState]:
    return [c for c in pod.containers if pod.container_running(c, t)]


def pod_network_rates(cluster: SimulatedCluster, pod: PodState, t: float) -> tuple[float, float]:
    """Bytes per second received and transmitted by the pod."""
    receive = transmit = BASELINE_NETWORK_BYTES_PER_S
    workload = pod.workload
    if workload is not None and workload.spec.http is not None:
        receive += workload.spec.http.requests_per_second * 800.0
        transmit += workload.spec.http.requests_per_second * 1500.0
    if workload is not None and workload.transmit_bytes_per_second is not None:
        senders = [p for p in cluster.pods_of(workload) if pod_has_sandbox(p, t) and p.deleting_since is None]
        transmit = workload.transmit_bytes_per_second / max(1, len(senders))
    return receive, transmit


def add_rates(cluster: SimulatedCluster, t: float, rates: dict[tuple[Any, ...], float]) -> None:
    """Counter growth rates (per second) that hold from ``t`` until the next breakpoint."""
    for pod in cluster.pods:
        if not pod_has_sandbox(pod, t):
            continue
        pod_cpu = PAUSE_CPU_CORES
        pod_throttled = 0.0
        all_limited = all(c.spec.cpu_limit_cores for c in pod.containers)
        for container in _running_containers(pod, t):
            instance = pod.container_instance(container, t)
            cores = container_cpu_cores(container)
            pod_cpu += cores
            rates[("cpu", pod.uid, container.name, instance)] = cores
            if container.spec.cpu_limit_cores:
                share = throttled_share(container.cpu_usage_ratio())
                pod_throttled = max(pod_throttled, share)
                rates[("cfs_periods", pod.uid, container.name, instance)] = 1.0 / CFS_PERIOD_S
                rates[("cfs_throttled", pod.uid, container.name, instance)] = share / CFS_PERIOD_S
        rates[("cpu_pod", pod.uid)] = pod_cpu
        rates[("cpu_pause", pod.uid)] = PAUSE_CPU_CORES
        if all_limited and _running_containers(pod, t):
            rates[("cfs_periods_pod", pod.uid)] = 1.0 / CFS_PERIOD_S
            rates[("cfs_throttled_pod", pod.uid)] = pod_throttled / CFS_PERIOD_S
        receive, transmit = pod_network_rates(cluster, pod, t)
        rates[("net_rx", pod.uid)] = receive
        rates[("net_tx", pod.uid)] = transmit
        rates[("net_rx_packets", pod.uid)] = receive / BYTES_PER_PACKET
        rates[("net_tx_packets", pod.uid)] = transmit / BYTES_PER_PACKET


def pod_cgroup(pod: PodState, qos: str) -> str:
    uid = pod.uid.replace("-", "_")
    if qos == "Guaranteed":
        return f"/kubepods.slice/kubepods-pod{uid}.slice"
    tier = qos.lower()
    return f"/kubepods.slice/kubepods-{tier}.slice/kubepods-{tier}-pod{uid}.slice"


def emit(cluster: SimulatedCluster, node: NodeState, t: float, out: Exposed) -> None:
    """The cAdvisor series of every pod on ``node``."""
    from conformance.sim.families.ksm import _qos  # the pod's QoS class decides its cgroup

    for name, (type_, help_) in _FAMILIES.items():
        out.declare(name, type_, help_)
    now_epoch = cluster.epoch + t
    for pod in sorted(cluster.pods, key=lambda p: (p.namespace, p.name)):
        if pod.node != node.name or not pod_has_sandbox(pod, t):
            continue
        cgroup = pod_cgroup(pod, _qos(pod))
        base = {"namespace": pod.namespace, "pod": pod.name}
        running = _running_containers(pod, t)
        # The pod's own cgroup.
        pod_labels = {**base, "container": "", "id": cgroup, "image": "", "name": ""}
        ws_total = PAUSE_MEMORY_BYTES + sum(container_working_set(c, t) for c in running)
        _cpu(cluster, out, pod_labels, cluster.acc.get(("cpu_pod", pod.uid), 0.0))
        limits = [c.spec.memory_limit_bytes for c in pod.containers]
        pod_limit = float(sum(x for x in limits if x)) if all(limits) else 0.0
        _memory(out, pod_labels, ws_total, pod_limit)
        if ("cfs_periods_pod", pod.uid) in cluster.acc:
            _cfs(cluster, out, pod_labels, ("cfs_periods_pod", pod.uid), ("cfs_throttled_pod", pod.uid))
        out.add("container_spec_memory_limit_bytes", pod_labels, pod_limit)
        out.add("container_last_seen", pod_labels, now_epoch)
        out.add("container_start_time_seconds", pod_labels, cluster.epoch + pod.scheduled_at)
        # The sandbox (pause) container: tiny, and the one carrying the pod's network counters.
        pause_labels = {
            **base,
            "container": "",
            "id": f"{cgroup}/cri-containerd-{pod.sandbox_id}.scope",
            "image": PAUSE_IMAGE,
            "name": pod.sandbox_id,
        }
        _cpu(cluster, out, pause_labels, cluster.acc.get(("cpu_pause", pod.uid), 0.0))
        _memory(out, pause_labels, PAUSE_MEMORY_BYTES, 0.0)
        out.add("container_spec_memory_limit_bytes", pause_labels, 0)
        out.add("container_last_seen", pause_labels, now_epoch)
        out.add("container_start_time_seconds", pause_labels, cluster.epoch + pod.scheduled_at + 0.5)
        net = {**pause_labels, "interface": "eth0"}
        out.add("container_network_receive_bytes_total", net, cluster.acc.get(("net_rx", pod.uid), 0.0))
        out.add("container_network_transmit_bytes_total", net, cluster.acc.get(("net_tx", pod.uid), 0.0))
        out.add("container_network_receive_packets_total", net, cluster.count(("net_rx_packets", pod.uid)))
        out.add("container_network_transmit_packets_total", net, cluster.count(("net_tx_packets", pod.uid)))
        for family in (
            "container_network_receive_errors_total",
            "container_network_transmit_errors_total",
            "container_network_receive_packets_dropped_total",
            "container_network_transmit_packets_dropped_total",
        ):
            out.add(family, net, 0)
        for container in running:
            _container(cluster, out, pod, container, cgroup, base, t)
    cadvisor_extra.emit_machine(cluster, node, out)


def _container(
    cluster: SimulatedCluster,
    out: Exposed,
    pod: PodState,
    container: ContainerState,
    cgroup: str,
    base: dict[str, str],
    t: float,
) -> None:
    cid = container_id(cluster, pod, container, t)
    instance = pod.container_instance(container, t)
    labels = {
        **base,
        "container": container.name,
        "id": f"{cgroup}/cri-containerd-{cid}.scope",
        "image": container.image,
        "name": cid,
    }
    spec = container.spec
    _cpu(cluster, out, labels, cluster.acc.get(("cpu", pod.uid, container.name, instance), 0.0))
    limit = float(spec.memory_limit_bytes or 0)
    _memory(out, labels, container_working_set(container, t), limit)
    if spec.cpu_limit_cores:
        _cfs(
            cluster,
            out,
            labels,
            ("cfs_periods", pod.uid, container.name, instance),
            ("cfs_throttled", pod.uid, container.name, instance),
        )
        out.add("container_spec_cpu_quota", labels, round(spec.cpu_limit_cores * 100000))
        out.add("container_spec_cpu_period", labels, 100000)
    request = spec.cpu_request_cores if spec.cpu_request_cores is not None else spec.cpu_limit_cores
    out.add("container_spec_cpu_shares", labels, max(2, math.floor((request or 0.0) * 1024)))
    out.add("container_spec_memory_limit_bytes", labels, limit)
    out.add("container_spec_memory_reservation_limit_bytes", labels, 0)
    out.add("container_spec_memory_swap_limit_bytes", labels, limit)
    last_start = container.crash.last_start_by(t) if container.crash else None
    started = last_start if last_start is not None else pod.scheduled_at + 1.0
    out.add("container_start_time_seconds", labels, cluster.epoch + started)
    out.add("container_last_seen", labels, cluster.epoch + t)
    # cAdvisor counts an OOM kill on the cgroup the kernel names (task_memcg), i.e. the killed container's own,
    # which is removed with it; the restarted container is a new cgroup whose count starts at 0. So a container
    # OOM-killed and restarted never shows a non-zero count (google/cadvisor#3015); OOMKilled shows in
    # kube-state-metrics' last terminated reason instead.
    out.add("container_oom_events_total", labels, 0)
    cadvisor_extra.emit_container(out, labels)


def _cpu(cluster: SimulatedCluster, out: Exposed, labels: dict[str, str], seconds: float) -> None:
    out.add("container_cpu_usage_seconds_total", {**labels, "cpu": "total"}, seconds)
    out.add("container_cpu_user_seconds_total", labels, seconds * 0.8)
    out.add("container_cpu_system_seconds_total", labels, seconds * 0.2)


def _memory(out: Exposed, labels: dict[str, str], working_set: float, limit: float) -> None:
    usage = working_set * 1.05
    if limit > 0:
        usage = min(usage, limit)
    rss = working_set * 0.8
    out.add("container_memory_usage_bytes", labels, math.floor(usage))
    out.add("container_memory_working_set_bytes", labels, math.floor(working_set))
    out.add("container_memory_rss", labels, math.floor(rss))
    out.add("container_memory_cache", labels, math.floor(max(0.0, usage - rss)))
    out.add("container_memory_swap", labels, 0)
    out.add("container_memory_mapped_file", labels, math.floor(working_set * 0.01))
    out.add("container_memory_failcnt", labels, 0)


def _cfs(
    cluster: SimulatedCluster,
    out: Exposed,
    labels: dict[str, str],
    periods: tuple[Any, ...],
    throttled: tuple[Any, ...],
) -> None:
    throttled_periods = cluster.count(throttled)
    out.add("container_cpu_cfs_periods_total", labels, cluster.count(periods))
    out.add("container_cpu_cfs_throttled_periods_total", labels, throttled_periods)
    out.add("container_cpu_cfs_throttled_seconds_total", labels, cluster.acc.get(throttled, 0.0) * CFS_PERIOD_S * 0.5)
