"""node-not-ready: the node's kubelet stops; the node goes ``Ready=Unknown`` after the 40 s heartbeat grace.

On kind: ``docker exec <node> systemctl stop kubelet``. On an existing cluster (only with ``--allow-nodes`` and
``--allow-disruption``): a privileged pod on the node stops the kubelet through ``nsenter`` and starts it again
by itself after the hold, a dead man's switch, since nothing can reach a node whose kubelet is down. The node is
annotated first, so a later run knows to start the kubelet again. Revert: start the kubelet, wait for Ready.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.errors import BackendError
from conformance.kube import resources as r
from conformance.kube.client import Obj
from conformance.kube.faults import FaultContext, Injector, Permission, patch_with_restore, restore
from conformance.kube.placement import ResolvedTarget
from conformance.kube.resources import Resource
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class NodeNotReadyParams:
    """``hold_s`` bounds how long the kubelet may stay down (the self-revert of the existing-cluster agent)."""

    hold_s: float = 600.0


class NodeNotReady(Injector):
    fault = "node-not-ready"
    node_fault = True

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, NodeNotReadyParams(hold_s=float(scenario.params.get("hold_s", 600))))

    def describe(self) -> str:
        return f"stop the kubelet on node {self.target.node} (at most {self.params.hold_s:g}s)"

    def describe_revert(self) -> str:
        return f"start the kubelet on node {self.target.node} and wait until it is Ready"

    def permissions(self) -> list[Permission]:
        return [Permission("get", "nodes"), Permission("patch", "nodes")]

    def apply(self, ctx: FaultContext) -> None:
        if ctx.node_agent is None:
            raise BackendError(f"node-not-ready: the {ctx.backend} backend has no way to stop a kubelet")
        node = str(self.target.node)
        patch_with_restore(ctx, r.NODES, node, None, {}, self.fault)
        ctx.node_agent.stop_kubelet(node, hold_s=self.params.hold_s)
        ctx.client.wait_node_ready(node, ready=False, timeout_s=ctx.timeouts.node_s, interval_s=ctx.timeouts.poll_s)

    def revert(self, ctx: FaultContext) -> None:
        node = ctx.client.get_or_none(r.NODES, str(self.target.node))
        if node is not None:
            self._start(ctx, node)

    @classmethod
    def _start(cls, ctx: FaultContext, node: Obj) -> None:
        name = node["metadata"]["name"]
        if (node["metadata"].get("annotations") or {}).get("alert-conformance/fault") != cls.fault:
            return
        if ctx.node_agent is None:
            raise BackendError(f"node {name}: cannot start its kubelet on the {ctx.backend} backend")
        ctx.node_agent.start_kubelet(name)
        ctx.client.wait_node_ready(name, ready=True, timeout_s=ctx.timeouts.node_s, interval_s=ctx.timeouts.poll_s)
        restore(ctx, r.NODES, name, None)

    @classmethod
    def clean_leftover(cls, ctx: FaultContext, resource: Resource, obj: Obj) -> str:
        cls._start(ctx, obj)
        return f"started the kubelet on node {obj['metadata']['name']}"
