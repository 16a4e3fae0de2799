"""A privileged busybox pod pinned to one node: how a fault reaches a node's kernel or mount namespace.

The pod is bound with ``nodeName`` (no scheduler), tolerates every taint, runs ``sleep`` for at most the
scenario's maximum hold (so a run killed outright leaves it for no longer), and carries the run's labels and the
fault annotation, so a later run deletes a leftover one. The same pod works on kind (a kind node is a container
whose PID 1 is its own systemd: ``hostPID`` and ``nsenter -t 1 -m`` reach the node's mounts) and on an existing
cluster.
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.client import pod_ready
from conformance.kube.exec import ExecResult, checked
from conformance.kube.faults import FaultContext, Permission

NODE_POD_IMAGE = "busybox:1.36"
CONTAINER = "node"


def node_pod_name(prefix: str, node: str) -> str:
    return f"alert-conformance-{prefix}-{node}"[:63].rstrip("-.")


def node_pod_permissions(namespace: str) -> list[Permission]:
    return [
        Permission("create", "pods", "", namespace),
        Permission("get", "pods", "", namespace),
        Permission("delete", "pods", "", namespace),
        Permission("create", "pods", "", namespace, "exec"),
    ]


def start_node_pod(
    ctx: FaultContext, *, name: str, namespace: str, node: str, fault: str, max_hold_s: int, host_pid: bool
) -> None:
    """Create the privileged pod on ``node`` and wait until it runs."""
    meta = {
        "name": name,
        "labels": lb.managed_labels(ctx.run_id, created=True),
        "annotations": {lb.FAULT_ANNOTATION: fault},
    }
    spec = {
        "nodeName": node,
        "hostPID": host_pid,
        "restartPolicy": "Never",
        "tolerations": [{"operator": "Exists"}],
        "containers": [
            {
                "name": CONTAINER,
                "image": NODE_POD_IMAGE,
                "command": ["sleep", str(max_hold_s)],
                "securityContext": {"privileged": True},
            }
        ],
    }
    ctx.client.create(r.PODS, {"metadata": meta, "spec": spec}, namespace)

    def running() -> bool | None:
        return True if pod_ready(ctx.client.get(r.PODS, name, namespace)) else None

    ctx.client.wait_for(
        f"pod {namespace}/{name} to run", running, timeout_s=ctx.timeouts.rollout_s, interval_s=ctx.timeouts.poll_s
    )


def run_in_node_pod(ctx: FaultContext, name: str, namespace: str, argv: Sequence[str], what: str) -> ExecResult:
    """``argv`` in the pod; a failure raises one line naming ``what``."""
    return checked(ctx.executor(namespace, name, CONTAINER, list(argv), timeout_s=ctx.timeouts.exec_s), what)


def pod_running(ctx: FaultContext, name: str, namespace: str) -> bool:
    pod = ctx.client.get_or_none(r.PODS, name, namespace)
    return pod is not None and pod_ready(pod)


def delete_node_pod(ctx: FaultContext, name: str, namespace: str) -> None:
    if ctx.client.delete(r.PODS, name, namespace, grace_period_s=0):
        ctx.client.wait_gone(r.PODS, name, namespace, timeout_s=ctx.timeouts.delete_s, interval_s=ctx.timeouts.poll_s)
