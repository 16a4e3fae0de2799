"""node-exporter: the node's memory, CPU time, load, filesystems and network as the host sees them.

CPU time per mode follows the pods' CPU use plus a small system overhead; memory in use follows the node's
baseline ratio or a ``node-memory-pressure`` fault; the root filesystem (ext4, 5 % reserved for root) its healthy
use or a ``fill-node-filesystem`` fault; network follows the pods' traffic.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from conformance import versions
from conformance.sim.exposition import Exposed
from conformance.sim.families import node_extra
from conformance.sim.families.cadvisor import (
    BYTES_PER_PACKET,
    PAUSE_CPU_CORES,
    container_cpu_cores,
    pod_has_sandbox,
    pod_network_rates,
)
from conformance.sim.state import EXT4_RESERVED_SHARE, ROOT_FILESYSTEM_BYTES, NodeState

if TYPE_CHECKING:
    from conformance.sim.cluster import SimulatedCluster

SYSTEM_OVERHEAD_SHARE = 0.03
CPU_MODES = ("idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user")

_FAMILIES: dict[str, tuple[str, str]] = {
    "node_memory_MemTotal_bytes": ("gauge", "Memory information field MemTotal_bytes."),
    "node_memory_MemAvailable_bytes": ("gauge", "Memory information field MemAvailable_bytes."),
    "node_memory_MemFree_bytes": ("gauge", "Memory information field MemFree_bytes."),
    "node_memory_Cached_bytes": ("gauge", "Memory information field Cached_bytes."),
    "node_memory_Buffers_bytes": ("gauge", "Memory information field Buffers_bytes."),
    "node_memory_SwapTotal_bytes": ("gauge", "Memory information field SwapTotal_bytes."),
    "node_memory_SwapFree_bytes": ("gauge", "Memory information field SwapFree_bytes."),
    "node_cpu_seconds_total": ("counter", "Seconds the CPUs spent in each mode."),
    "node_load1": ("gauge", "1m load average."),
    "node_load5": ("gauge", "5m load average."),
    "node_load15": ("gauge", "15m load average."),
    "node_filesystem_size_bytes": ("gauge", "Filesystem size in bytes."),
    "node_filesystem_avail_bytes": ("gauge", "Filesystem space available to non-root users in bytes."),
    "node_filesystem_free_bytes": ("gauge", "Filesystem free space in bytes."),
    "node_filesystem_files": ("gauge", "Filesystem total file nodes."),
    "node_filesystem_files_free": ("gauge", "Filesystem total free file nodes."),
    "node_filesystem_readonly": ("gauge", "Filesystem read-only status."),
    "node_filesystem_device_error": (
        "gauge",
        "Whether an error occurred while getting statistics for the given device.",
    ),
    "node_network_receive_bytes_total": ("counter", "Network device statistic receive_bytes."),
    "node_network_transmit_bytes_total": ("counter", "Network device statistic transmit_bytes."),
    "node_network_receive_packets_total": ("counter", "Network device statistic receive_packets."),
    "node_network_transmit_packets_total": ("counter", "Network device statistic transmit_packets."),
    "node_network_receive_errs_total": ("counter", "Network device statistic receive_errs."),
    "node_network_transmit_errs_total": ("counter", "Network device statistic transmit_errs."),
    "node_network_receive_drop_total": ("counter", "Network device statistic receive_drop."),
    "node_network_transmit_drop_total": ("counter", "Network device statistic transmit_drop."),
    "node_network_up": ("gauge", "Value is 1 if operstate is 'up', 0 otherwise."),
    "node_boot_time_seconds": ("gauge", "Node boot time, in unixtime."),
    "node_time_seconds": ("gauge", "System time in seconds since epoch (1970)."),
    "node_uname_info": ("gauge", "Labeled system information as provided by the uname system call."),
    "node_exporter_build_info": (
        "gauge",
        "A metric with a constant '1' value labeled by version, revision, branch, "
        "goversion from which node_exporter was built, and the goos and goarch for the "
        "build.",
    ),
}


def cpu_count(node: NodeState) -> int:
    return max(1, math.ceil(node.spec.cpu_cores))


def busy_cores(cluster: SimulatedCluster, node: NodeState, t: float) -> float:
    busy = node.spec.cpu_cores * SYSTEM_OVERHEAD_SHARE
    for pod in cluster.pods:
        if pod.node != node.name or not pod_has_sandbox(pod, t):
            continue
        busy += PAUSE_CPU_CORES
        busy += sum(container_cpu_cores(c) for c in pod.containers if pod.container_running(c, t))
    return min(busy, float(cpu_count(node)))


def add_rates(cluster: SimulatedCluster, t: float, rates: dict[tuple[Any, ...], float]) -> None:
    for node in cluster.nodes.values():
        cpus = cpu_count(node)
        share = busy_cores(cluster, node, t) / cpus
        per_mode = {
            "user": share * 0.7,
            "system": share * 0.25,
            "softirq": share * 0.03,
            "iowait": share * 0.02,
            "irq": 0.0,
            "nice": 0.0,
            "steal": 0.0,
        }
        per_mode["idle"] = max(0.0, 1.0 - sum(per_mode.values()))
        for cpu in range(cpus):
            for mode, rate in per_mode.items():
                rates[("node_cpu", node.name, cpu, mode)] = rate
        receive = transmit = 5000.0
        for pod in cluster.pods:
            if pod.node == node.name and pod_has_sandbox(pod, t):
                pod_rx, pod_tx = pod_network_rates(cluster, pod, t)
                receive += pod_rx
                transmit += pod_tx
        rates[("node_net_rx", node.name)] = receive
        rates[("node_net_tx", node.name)] = transmit
        rates[("node_net_rx_packets", node.name)] = receive / BYTES_PER_PACKET
        rates[("node_net_tx_packets", node.name)] = transmit / BYTES_PER_PACKET


def emit(cluster: SimulatedCluster, node: NodeState, t: float, out: Exposed) -> None:
    for name, (type_, help_) in _FAMILIES.items():
        out.declare(name, type_, help_)
    total = float(node.spec.memory_bytes)
    available = math.floor(total * (1.0 - node.memory_used_ratio(t)))
    out.add("node_memory_MemTotal_bytes", {}, total)
    out.add("node_memory_MemAvailable_bytes", {}, available)
    out.add("node_memory_MemFree_bytes", {}, math.floor(available * 0.5))
    out.add("node_memory_Cached_bytes", {}, math.floor(available * 0.4))
    out.add("node_memory_Buffers_bytes", {}, math.floor(available * 0.05))
    out.add("node_memory_SwapTotal_bytes", {}, 0)
    out.add("node_memory_SwapFree_bytes", {}, 0)
    for cpu in range(cpu_count(node)):
        for mode in CPU_MODES:
            value = cluster.acc.get(("node_cpu", node.name, cpu, mode), 0.0)
            out.add("node_cpu_seconds_total", {"cpu": str(cpu), "mode": mode}, value)
    load = busy_cores(cluster, node, t)
    for family in ("node_load1", "node_load5", "node_load15"):
        out.add(family, {}, round(load, 2))
    fs = {"device": "/dev/sda1", "fstype": "ext4", "mountpoint": "/"}
    size = float(ROOT_FILESYSTEM_BYTES)
    # statfs: free is f_bfree (root's reserve included), avail is f_bavail: ext4 reserves 5% for root, so what
    # ordinary users may still write is that much less than what is free (never below zero).
    free = math.floor(size * (1.0 - node.filesystem_used_share(t)))
    out.add("node_filesystem_size_bytes", fs, size)
    out.add("node_filesystem_free_bytes", fs, free)
    out.add("node_filesystem_avail_bytes", fs, max(0, free - math.floor(size * EXT4_RESERVED_SHARE)))
    out.add("node_filesystem_files", fs, ROOT_FILESYSTEM_BYTES // 16384)
    out.add("node_filesystem_files_free", fs, ROOT_FILESYSTEM_BYTES // 16384 - 250000)
    out.add("node_filesystem_readonly", fs, 0)
    out.add("node_filesystem_device_error", fs, 0)
    for device in ("eth0", "lo"):
        labels = {"device": device}
        if device == "eth0":
            rx = cluster.acc.get(("node_net_rx", node.name), 0.0)
            tx = cluster.acc.get(("node_net_tx", node.name), 0.0)
            rxp = cluster.count(("node_net_rx_packets", node.name))
            txp = cluster.count(("node_net_tx_packets", node.name))
        else:
            rx = tx = rxp = txp = 0.0
        out.add("node_network_receive_bytes_total", labels, math.floor(rx))
        out.add("node_network_transmit_bytes_total", labels, math.floor(tx))
        out.add("node_network_receive_packets_total", labels, rxp)
        out.add("node_network_transmit_packets_total", labels, txp)
        for family in (
            "node_network_receive_errs_total",
            "node_network_transmit_errs_total",
            "node_network_receive_drop_total",
            "node_network_transmit_drop_total",
        ):
            out.add(family, labels, 0)
        out.add("node_network_up", labels, 1)
    out.add("node_boot_time_seconds", {}, cluster.epoch + node.created)
    out.add("node_time_seconds", {}, cluster.epoch + t)
    out.add(
        "node_uname_info",
        {
            "domainname": "(none)",
            "machine": "x86_64",
            "nodename": node.name,
            "release": versions.KERNEL,
            "sysname": "Linux",
            "version": "#45-Ubuntu SMP PREEMPT_DYNAMIC",
        },
        1,
    )
    node_extra.emit(cluster, node, t, out)
    out.add(
        "node_exporter_build_info",
        {"version": versions.NODE_EXPORTER.lstrip("v"), "goos": "linux", "goarch": "amd64"},
        1,
    )
