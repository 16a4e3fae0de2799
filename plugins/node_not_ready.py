"""node-not-ready: the node's kubelet stops; the node goes ``Ready=Unknown`` after the 40 s heartbeat grace.

On kind: ``docker exec <node> systemctl stop kubelet``. A stopped kubelet reports nothing, so the node controller
sets ``Ready=Unknown`` (``NodeStatusUnknown``); ``Ready=False`` needs a kubelet that is running and reports itself
not ready, which stopping it cannot give: a scenario with ``ready_status: false`` (the twin's other mode, see
:mod:`conformance.sim.faults`) is skipped with that reason instead of run as Unknown.

The node is annotated first, so a later run knows to start
the kubelet again. Revert: start the kubelet, wait for Ready. On an existing cluster the scenario is skipped: once
a real node's kubelet is down nothing can reach the node through the API to start it again, and the suite does
not apply a fault it cannot revert.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.errors import BackendError, InputError
from conformance.kube import resources as r
from conformance.kube.client import Obj
from conformance.kube.faults import FaultContext, Injector, Permission, patch_with_restore, restore
from conformance.kube.placement import BackendName, ResolvedTarget
from conformance.kube.resources import Resource
from conformance.model.scenario import Scenario

READY_STATUSES = ("unknown", "false")


@dataclass(frozen=True)
class NodeNotReadyParams:
    """``hold_s`` bounds how long the kubelet may stay down (the self-revert of the existing-cluster agent);
    ``ready_status`` is the Ready condition the scenario asks for (``unknown`` or ``false``)."""

    hold_s: float = 600.0
    ready_status: str = "unknown"


class NodeNotReady(Injector):
    fault = "node-not-ready"
    node_fault = True
    node_loss = True

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        status = str(scenario.params.get("ready_status", "unknown")).lower()
        if status not in READY_STATUSES:
            raise InputError(f"scenario {scenario.id}: ready_status must be 'unknown' or 'false', not {status!r}")
        return cls(target, NodeNotReadyParams(float(scenario.params.get("hold_s", 600)), status))

    def params_skip_reason(self, backend: BackendName) -> str | None:
        if self.params.ready_status == "false":
            return (
                "ready_status: false asks for Ready=False, but a stopped kubelet gives Ready=Unknown (the node "
                "controller's verdict on a silent node); Ready=False needs a running kubelet reporting itself not "
                "ready, which this fault cannot produce"
            )
        return None

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        if backend == "cluster":
            return (
                "stopping a real node's kubelet cannot be reverted through the API (nothing reaches a node whose "
                "kubelet is down); the suite only applies faults it can revert"
            )
        return None

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
