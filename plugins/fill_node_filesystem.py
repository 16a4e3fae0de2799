"""fill-node-filesystem: a filesystem of the node, as node-exporter reports it, filled until avail/size is the level.

Filling a kind node's own root filesystem would fill the CI machine's disk (kind nodes are containers on the
host's filesystem), and filling a real node's root filesystem would starve its kubelet and pods. So the fault
mounts a small dedicated tmpfs on the node (param ``size``, default 64Mi; it costs that much of the node's memory
while it holds) at ``/mnt/alert-conformance-fill`` and fills it: the alert names that filesystem, **device
``tmpfs``, fstype ``tmpfs``, mountpoint ``/mnt/alert-conformance-fill``**. The chart's node-exporter reports it:
kube-prometheus-stack 88.5.3's values pass ``--collector.filesystem.fs-types-exclude`` without tmpfs and
``--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run/containerd/.+|var/lib/docker/.+|var/lib/kubelet/.+)($|/)``
(``/mnt`` is not excluded), and prometheus-node-exporter 4.56.1 mounts the node's ``/`` at ``/host/root`` with
``mountPropagation: HostToContainer``, so a mount made after node-exporter started reaches it. tmpfs has no root
reserve: avail_bytes equals free_bytes there (the twin's ext4 root filesystem keeps 5 % for root).

How: a privileged busybox pod with ``hostPID`` on the node (:mod:`conformance_plugins._node_pod`; on kind the node
container's PID 1 is its systemd) enters the node's mount namespace with ``nsenter -t 1 -m``, mounts the tmpfs,
reads ``df`` and writes the difference with ``fallocate`` (``dd`` where fallocate is missing): at once, or with
``fill_s`` in equal chunks every :data:`FILL_STEP_S` seconds (a background loop in the pod, so the hold does not
wait on it). Revert: stop the loop, remove the files, unmount, remove the directory, delete the pod (a leftover
pod of a killed run is cleaned the same way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from conformance_plugins._node_pod import (
    delete_node_pod,
    node_pod_name,
    node_pod_permissions,
    pod_running,
    run_in_node_pod,
    start_node_pod,
)
from conformance_plugins._stress import in_background, kill_command
from conformance_plugins.fill_volume import parse_df

from conformance.errors import BackendError, InputError
from conformance.kube import resources as r
from conformance.kube.client import Obj
from conformance.kube.faults import FaultContext, Injector, Permission
from conformance.kube.placement import ResolvedTarget
from conformance.kube.resources import Resource
from conformance.model.scenario import Scenario, param_value
from conformance.quantities import parse_quantity

MOUNT_POINT = "/mnt/alert-conformance-fill"
FILL_FILE = f"{MOUNT_POINT}/fill"
#: The gradual fill's loop carries this in its argv; the revert kills it with :func:`kill_command`.
MARKER = "alert-conformance-filler"
#: A gradual fill writes one chunk this often: node-exporter is scraped every 30 s by the chart's ServiceMonitor.
FILL_STEP_S = 30.0
#: How long a pod started again only to unmount may live.
CLEAN_S = 300
NODE_MOUNTS = ["nsenter", "-t", "1", "-m", "--"]  # PID 1's mount namespace: the node's own mounts


@dataclass(frozen=True)
class FillNodeParams:
    available_ratio: float
    size_bytes: int
    namespace: str
    max_hold_s: int = 1800
    fill_s: float = 0.0


class FillNodeFilesystem(Injector):
    fault = "fill-node-filesystem"
    node_fault = True

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        if level is None:
            raise ValueError("fill-node-filesystem needs a level (the share of the filesystem left available)")
        size = str(param_value(scenario, "size"))
        try:
            size_bytes = parse_quantity(size)
        except ValueError:
            raise InputError(f"scenario {scenario.id}: size {size!r} is not a Kubernetes quantity of bytes") from None
        namespace = str(scenario.params.get("namespace", target.namespace or target.work_namespace or "default"))
        max_hold = int(scenario.params.get("max_hold_s", 1800))
        fill_s = float(scenario.params.get("fill_s", 0))
        return cls(target, FillNodeParams(float(level), int(size_bytes), namespace, max_hold, fill_s))

    @property
    def pod_name(self) -> str:
        return node_pod_name("fill", str(self.target.node))

    def describe(self) -> str:
        return (
            f"mount a {self.params.size_bytes // 2**20}Mi tmpfs at {MOUNT_POINT} on node {self.target.node} (pod "
            f"{self.params.namespace}/{self.pod_name}, privileged) and fill it{self._over()} until "
            f"{self.params.available_ratio:.1%} is available; the alert names device tmpfs, mountpoint {MOUNT_POINT}"
        )

    def _over(self) -> str:
        return f" linearly over {self.params.fill_s:g}s" if self.params.fill_s > 0 else ""

    def describe_revert(self) -> str:
        return f"remove the file, unmount {MOUNT_POINT} on node {self.target.node}, delete the pod"

    def permissions(self) -> list[Permission]:
        return node_pod_permissions(self.params.namespace)

    def apply(self, ctx: FaultContext) -> None:
        ns, pod = self.params.namespace, self.pod_name
        start_node_pod(
            ctx,
            name=pod,
            namespace=ns,
            node=str(self.target.node),
            fault=self.fault,
            max_hold_s=round(self.params.fill_s) + self.params.max_hold_s,
            host_pid=True,
        )
        mount = (
            f"mkdir -p {MOUNT_POINT} && (mountpoint -q {MOUNT_POINT} || "
            f"mount -t tmpfs -o size={self.params.size_bytes} tmpfs {MOUNT_POINT})"
        )
        run_in_node_pod(ctx, pod, ns, [*NODE_MOUNTS, "sh", "-c", mount], f"mounting a tmpfs on {self.target.node}")
        df = run_in_node_pod(ctx, pod, ns, [*NODE_MOUNTS, "df", "-Pk", MOUNT_POINT], f"df of {MOUNT_POINT}")
        size, available = parse_df(df.stdout)
        to_write = available - int(self.params.available_ratio * size)
        if to_write <= 0:
            raise BackendError(
                f"{MOUNT_POINT} on node {self.target.node} already has only {available / size:.1%} available; "
                f"cannot fill it to {self.params.available_ratio:.1%}"
            )
        run_in_node_pod(ctx, pod, ns, [*NODE_MOUNTS, "sh", "-c", self.fill_script(to_write)], f"filling {MOUNT_POINT}")

    def fill_script(self, to_write: int) -> str:
        """Write ``to_write`` bytes: one file at once, or equal chunk files one every :data:`FILL_STEP_S`."""
        steps = max(1, math.ceil(self.params.fill_s / FILL_STEP_S))
        if steps == 1:
            return _write(FILL_FILE, to_write) + "; sync"
        chunk = to_write // steps
        last = to_write - chunk * (steps - 1)
        loop = (
            f"i=1; while [ $i -lt {steps} ]; do {_write(FILL_FILE + '.$i', chunk)}; sync; sleep {FILL_STEP_S:g}; "
            f"i=$((i+1)); done; {_write(FILL_FILE + '.last', last)}; sync"
        )
        ends = math.ceil(self.params.fill_s + 2 * FILL_STEP_S)
        return in_background(f"sh -c '{loop}'", ends, MARKER)

    def revert(self, ctx: FaultContext) -> None:
        self._clean(ctx, self.pod_name, self.params.namespace, str(self.target.node))

    @classmethod
    def _clean(cls, ctx: FaultContext, pod: str, namespace: str, node: str) -> None:
        """Unmount through the fault's pod; one that has ended (its maximum hold passed) is started again for
        that, since the tmpfs outlives it. Nothing to do when the pod never existed (apply never ran)."""
        if ctx.client.get_or_none(r.PODS, pod, namespace) is None:
            return
        if not pod_running(ctx, pod, namespace):
            delete_node_pod(ctx, pod, namespace)
            start_node_pod(
                ctx, name=pod, namespace=namespace, node=node, fault=cls.fault, max_hold_s=CLEAN_S, host_pid=True
            )
        # The fill loop first (busybox pkill in the pod, which sees the node's processes), then the files and mount.
        run_in_node_pod(ctx, pod, namespace, ["sh", "-c", kill_command(MARKER)], "stopping the fill")
        script = (
            f"rm -f {FILL_FILE} {FILL_FILE}.*; "
            f"if mountpoint -q {MOUNT_POINT}; then umount {MOUNT_POINT}; fi; "
            f"rmdir {MOUNT_POINT} 2>/dev/null; true"
        )
        run_in_node_pod(ctx, pod, namespace, [*NODE_MOUNTS, "sh", "-c", script], f"unmounting {MOUNT_POINT}")
        delete_node_pod(ctx, pod, namespace)

    @classmethod
    def clean_leftover(cls, ctx: FaultContext, resource: Resource, obj: Obj) -> str:
        meta = obj["metadata"]
        cls._clean(ctx, meta["name"], meta["namespace"], obj["spec"]["nodeName"])
        return f"unmounted {MOUNT_POINT} and deleted pod {meta['namespace']}/{meta['name']}"


def _write(path: str, size: int) -> str:
    """A shell command writing a file of ``size`` bytes (``dd`` where the filesystem has no fallocate)."""
    dd = f"dd if=/dev/zero of={path} bs=1024 count={size // 1024} 2>/dev/null"
    return f"(fallocate -l {size} {path} 2>/dev/null || {dd})"
