"""kubelets-down: every node's kubelet stops at once (KubeletDown: no kubelet reachable).

On kind: ``docker exec <node> systemctl stop kubelet`` on every node, the control plane's included. The containers
keep running (containerd runs them, not the kubelet), so the API server, the scheduler, the controller manager and
every pod go on; the kubelets' targets stay discovered (the Node objects remain, and with them the endpoints of the
kubelet Service the operator keeps) and stop answering: ``up{job="kubelet"}`` 0. After the 40 s heartbeat grace
every node is Ready=Unknown; with no node Ready the node lifecycle controller enters "master disruption mode" and
evicts nothing (see :mod:`conformance.sim.faults`).

Every node is annotated first, so a later run knows to start its kubelet again. Revert: start every kubelet and
wait for every node Ready. On an existing cluster the scenario is skipped, as node-not-ready is: nothing reaches a
node whose kubelet is down through the API to start it again, and stopping every kubelet of a real cluster takes
all of it NotReady; ``--allow-disruption`` and ``--allow-nodes`` do not make it revertible.

On kind it is skipped too, for now, because the suite could not see the result: once the nodes are Unknown the
node lifecycle controller marks every pod NotReady (``MarkPodsNotReady`` runs in master disruption mode as well),
so every Service loses its ready endpoints. The suite reads Prometheus, Alertmanager and the capture webhook
through the API server's *service* proxy (ready endpoints only), and Alertmanager reaches the capture webhook
through its Service: both fail until the revert. Reading through pod proxies and publishing the capture Service's
not-ready addresses would lift the skip; the injector itself (tested against the fake API) is ready.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.errors import BackendError
from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.client import Obj
from conformance.kube.faults import FaultContext, Injector, Permission, patch_with_restore, restore
from conformance.kube.placement import BackendName, ResolvedTarget
from conformance.kube.resources import Resource
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class KubeletsDownParams:
    """``hold_s`` bounds how long the kubelets may stay down (the engine reverts well before)."""

    hold_s: float = 1800.0


class KubeletsDown(Injector):
    fault = "kubelets-down"
    node_fault = True
    node_loss = True

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, KubeletsDownParams(float(scenario.params.get("hold_s", 1800))))

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        if backend == "cluster":
            return (
                "stopping every kubelet of a real cluster takes all of it NotReady, and it cannot be reverted "
                "through the API (nothing reaches a node whose kubelet is down); the suite only applies faults it "
                "can revert"
            )
        return (
            "with every kubelet down every pod is marked NotReady and every Service loses its endpoints: the "
            "suite's reads through the API server's service proxy and Alertmanager's webhook to the capture "
            "Service would fail until the revert"
        )

    def describe(self) -> str:
        return f"stop the kubelet on every node (at most {self.params.hold_s:g}s)"

    def describe_revert(self) -> str:
        return "start the kubelet on every node and wait until each is Ready"

    def permissions(self) -> list[Permission]:
        return [Permission("list", "nodes"), Permission("get", "nodes"), Permission("patch", "nodes")]

    def apply(self, ctx: FaultContext) -> None:
        agent = ctx.node_agent
        if agent is None:
            raise BackendError(f"kubelets-down: the {ctx.backend} backend has no way to stop a kubelet")
        nodes = sorted(node["metadata"]["name"] for node in ctx.client.list(r.NODES))
        for node in nodes:  # every node marked before any kubelet stops: a failed apply leaves all revertible
            patch_with_restore(ctx, r.NODES, node, None, {}, self.fault)
        for node in nodes:
            agent.stop_kubelet(node, hold_s=self.params.hold_s)
        for node in nodes:
            ctx.client.wait_node_ready(node, ready=False, timeout_s=ctx.timeouts.node_s, interval_s=ctx.timeouts.poll_s)

    def revert(self, ctx: FaultContext) -> None:
        marked = [node for node in ctx.client.list(r.NODES) if _carries(node, self.fault)]
        for node in marked:
            self._start(ctx, node, wait=False)
        for node in marked:
            name = node["metadata"]["name"]
            ctx.client.wait_node_ready(name, ready=True, timeout_s=ctx.timeouts.node_s, interval_s=ctx.timeouts.poll_s)
            restore(ctx, r.NODES, name, None)

    @classmethod
    def _start(cls, ctx: FaultContext, node: Obj, *, wait: bool) -> None:
        name = node["metadata"]["name"]
        if not _carries(node, cls.fault):
            return
        if ctx.node_agent is None:
            raise BackendError(f"node {name}: cannot start its kubelet on the {ctx.backend} backend")
        ctx.node_agent.start_kubelet(name)
        if wait:
            ctx.client.wait_node_ready(name, ready=True, timeout_s=ctx.timeouts.node_s, interval_s=ctx.timeouts.poll_s)
            restore(ctx, r.NODES, name, None)

    @classmethod
    def clean_leftover(cls, ctx: FaultContext, resource: Resource, obj: Obj) -> str:
        cls._start(ctx, obj, wait=True)
        return f"started the kubelet on node {obj['metadata']['name']}"


def _carries(node: Obj, fault: str) -> bool:
    return (node["metadata"].get("annotations") or {}).get(lb.FAULT_ANNOTATION) == fault
