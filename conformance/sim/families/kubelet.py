"""The kubelet's own ``/metrics``: volume statistics of the claims its pods mount, and a few node facts.

``kubelet_volume_stats_*`` exist only for a claim mounted by a running pod, and only on that pod's node
(the kubelet measures the mounted filesystem). They are statfs(2) of the mount, as the kubelet's
``pkg/volume/util/fs`` ``FsInfo`` reads it: capacity = f_blocks, available = f_bavail (what a non-root writer
may still use), used = f_blocks - f_bfree. On ext4, f_bfree - f_bavail is the root-reserved 5 %, so used +
available falls short of capacity by that much. Capacity is the claim's size, so that available/capacity is
exactly the fill level a fault sets.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from conformance import versions
from conformance.sim.exposition import Exposed
from conformance.sim.families import kubelet_health
from conformance.sim.families.ksm import _KUBELET_VERSION, pod_claims
from conformance.sim.state import ClaimState, NodeState, PodState

if TYPE_CHECKING:
    from conformance.sim.cluster import SimulatedCluster

BYTES_PER_INODE = 16384
AVERAGE_FILE_BYTES = 1 << 20

_FAMILIES: dict[str, tuple[str, str]] = {
    "kubelet_volume_stats_capacity_bytes": ("gauge", "[ALPHA] Capacity in bytes of the volume"),
    "kubelet_volume_stats_available_bytes": ("gauge", "[ALPHA] Number of available bytes in the volume"),
    "kubelet_volume_stats_used_bytes": ("gauge", "[ALPHA] Number of used bytes in the volume"),
    "kubelet_volume_stats_inodes": ("gauge", "[ALPHA] Maximum number of inodes in the volume"),
    "kubelet_volume_stats_inodes_free": ("gauge", "[ALPHA] Number of free inodes in the volume"),
    "kubelet_volume_stats_inodes_used": ("gauge", "[ALPHA] Number of used inodes in the volume"),
    "kubelet_volume_stats_health_status_abnormal": (
        "gauge",
        "[ALPHA] Abnormal volume health status. The count is either 1 or 0. 1 indicates "
        "the volume is unhealthy, 0 indicates volume is healthy",
    ),
    "kubelet_node_name": ("gauge", "[ALPHA] The node's name. The count is always 1."),
    "kubelet_running_pods": ("gauge", "[ALPHA] Number of pods that have a running pod sandbox"),
    "kubelet_running_containers": ("gauge", "[ALPHA] Number of containers currently running"),
    "kubernetes_build_info": (
        "gauge",
        "[ALPHA] A metric with a constant '1' value labeled by major, minor, git version,"
        " git commit, git tree state, build date, Go version, and compiler from which "
        "Kubernetes was built, and platform on which it is running.",
    ),
}


def mounting_pod(cluster: SimulatedCluster, claim: ClaimState, t: float) -> PodState | None:
    """The running pod that has the claim mounted (the first by name when several do), if any."""
    candidates = [
        pod
        for pod in cluster.pods
        if pod.namespace == claim.spec.namespace
        and claim.spec.name in pod_claims(cluster, pod)
        and pod.started(t)
        and pod.job is None
        and pod.deleting_since is None
    ]
    return min(candidates, key=lambda p: p.name) if candidates else None


def emit(cluster: SimulatedCluster, node: NodeState, t: float, out: Exposed) -> None:
    for name, (type_, help_) in _FAMILIES.items():
        out.declare(name, type_, help_)
    out.add("kubelet_node_name", {"node": node.name}, 1)
    out.add(
        "kubernetes_build_info",
        {
            "git_version": _KUBELET_VERSION,
            "major": "1",
            "minor": versions.kubernetes_minor(),
            "platform": "linux/amd64",
        },
        1,
    )
    on_node = [p for p in cluster.pods if p.node == node.name and p.job is None and p.started(t)]
    out.add("kubelet_running_pods", {}, len(on_node))
    running = sum(1 for p in on_node for c in p.containers if p.container_running(c, t))
    exited = sum(1 for p in on_node for c in p.containers if not p.container_running(c, t))
    out.add("kubelet_running_containers", {"container_state": "running"}, running)
    out.add("kubelet_running_containers", {"container_state": "exited"}, exited)
    kubelet_health.emit(cluster, node, t, out)
    for claim in cluster.claims:
        pod = mounting_pod(cluster, claim, t)
        if pod is None or pod.node != node.name:
            continue
        labels = {"namespace": claim.spec.namespace, "persistentvolumeclaim": claim.spec.name}
        capacity = float(claim.spec.capacity_bytes)
        used = math.floor(capacity * claim.used_share(t))
        available = math.floor(capacity * claim.available_share(t))
        inodes = claim.spec.capacity_bytes // BYTES_PER_INODE
        inodes_used = min(inodes, used // AVERAGE_FILE_BYTES + 11)
        out.add("kubelet_volume_stats_capacity_bytes", labels, capacity)
        out.add("kubelet_volume_stats_available_bytes", labels, available)
        out.add("kubelet_volume_stats_used_bytes", labels, used)
        out.add("kubelet_volume_stats_inodes", labels, inodes)
        out.add("kubelet_volume_stats_inodes_free", labels, inodes - inodes_used)
        out.add("kubelet_volume_stats_inodes_used", labels, inodes_used)
        out.add("kubelet_volume_stats_health_status_abnormal", labels, 0)
