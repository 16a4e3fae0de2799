"""cAdvisor's machine facts and each container's filesystem and process counts, as the kubelet's embedded
cAdvisor serves them on ``/metrics/cadvisor`` (its default metric sets include disk usage and processes).

``machine_*`` describe the node (no container labels). The filesystem series are the container's writable layer
on the node's root disk. kube-prometheus-stack drops ``container_file_descriptors`` and ``container_threads_max``
before storage (``KPS_CADVISOR_DROP``); they are served all the same.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from conformance.sim.exposition import Exposed
from conformance.sim.state import NodeState

if TYPE_CHECKING:
    from conformance.sim.cluster import SimulatedCluster

ROOT_DEVICE = "/dev/sda1"
ROOT_DISK_BYTES = 100 * 2**30
LAYER_BYTES = 40 * 2**20  # a container's writable layer

_MACHINE: dict[str, tuple[str, str]] = {
    "machine_cpu_cores": ("gauge", "Number of logical CPU cores."),
    "machine_cpu_physical_cores": ("gauge", "Number of physical CPU cores."),
    "machine_cpu_sockets": ("gauge", "Number of CPU sockets."),
    "machine_memory_bytes": ("gauge", "Amount of memory installed on the machine."),
    "machine_swap_bytes": ("gauge", "Amount of swap memory available on the machine."),
}
_CONTAINER: dict[str, tuple[str, str]] = {
    "container_fs_usage_bytes": ("gauge", "Number of bytes that are consumed by the container on this filesystem."),
    "container_fs_limit_bytes": (
        "gauge",
        "Number of bytes that can be consumed by the container on this filesystem.",
    ),
    "container_processes": ("gauge", "Number of processes running inside the container."),
    "container_threads": ("gauge", "Number of threads running inside the container"),
    "container_sockets": ("gauge", "Number of open sockets for the container."),
    "container_file_descriptors": ("gauge", "Number of open file descriptors for the container."),
    "container_threads_max": (
        "gauge",
        "Maximum number of threads allowed inside the container, infinity if value is zero",
    ),
}


def emit_machine(cluster: SimulatedCluster, node: NodeState, out: Exposed) -> None:
    """The node's machine facts, with the ``boot_id``/``machine_id``/``system_uuid`` labels cAdvisor adds."""
    for name, (type_, help_) in _MACHINE.items():
        out.declare(name, type_, help_)
    ids = {"boot_id": node.uid, "machine_id": node.uid.replace("-", ""), "system_uuid": node.uid}
    cores = max(1, math.ceil(node.spec.cpu_cores))
    out.add("machine_cpu_cores", ids, cores)
    out.add("machine_cpu_physical_cores", ids, max(1, cores // 2))
    out.add("machine_cpu_sockets", ids, 1)
    out.add("machine_memory_bytes", ids, float(node.spec.memory_bytes))
    out.add("machine_swap_bytes", ids, 0)


def emit_container(out: Exposed, labels: dict[str, str]) -> None:
    """One running container's filesystem and process series (``labels``: its cAdvisor labels)."""
    for name, (type_, help_) in _CONTAINER.items():
        out.declare(name, type_, help_)
    fs = {**labels, "device": ROOT_DEVICE}
    out.add("container_fs_usage_bytes", fs, LAYER_BYTES)
    out.add("container_fs_limit_bytes", fs, ROOT_DISK_BYTES)
    out.add("container_processes", labels, 1)
    out.add("container_threads", labels, 12)
    out.add("container_sockets", labels, 4)
    out.add("container_file_descriptors", labels, 24)
    out.add("container_threads_max", labels, 0)
