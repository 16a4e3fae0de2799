"""control-plane-down: a control-plane component stops, as it does when its static pod goes.

On kind (kubeadm) the API server, scheduler and controller manager are static pods: the kubelet runs every
manifest in ``/etc/kubernetes/manifests`` and watches the folder. Moving a component's manifest out of it (through
the node agent, ``docker exec``) makes the kubelet stop the pod and delete its mirror pod; what follows depends on
the component:

* kube-scheduler: the controller manager's endpoint controllers drop it from the chart's Service (selector
  ``component: kube-scheduler``) and the target leaves Prometheus's discovery: ``up{job="kube-scheduler"}``
  becomes absent, which fires ``absent(up{job="kube-scheduler"} == 1)`` (chart 65.1.1) and
  ``absent(up{job="kube-scheduler"})`` (79.5.0 on).
* kube-controller-manager: it runs those endpoint controllers itself, so with the only one stopped its Service
  keeps the address and the target stays discovered with ``up`` 0: 65.1.1's ``absent(up == 1)`` fires,
  ``absent(up{job="kube-controller-manager"})`` (79.5.0 on) does not.
* For Prometheus to scrape either at all on kind, the cluster is created with it bound to 0.0.0.0 and the
  chart's ServiceMonitor for it enabled (:mod:`conformance.kube.layout`, :mod:`conformance.kube.stack`).
* kube-apiserver: skipped on kind. The suite reads Prometheus, Alertmanager and the capture webhook through the
  API server's proxy, so with the only API server stopped it would see nothing until the revert. (Prometheus
  itself would keep the API server's target with ``up`` 0: its Kubernetes discovery watches through the API
  server, and client-go's reflector keeps the last target set while it retries; the twin does that.)

The control-plane node is annotated first (the component in an annotation), so a later run knows what to move
back. Revert: move the manifest back, wait until the container runs and its health endpoint answers, then remove
the annotation. This acts on kube-system's static pods of the suite's own kind cluster through the node, never
through the API. On an existing cluster it is skipped: a managed control plane exposes no manifests, and the suite
has no way onto a self-managed one's nodes.
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

#: Where each component answers on its node's loopback once it is serving (kubeadm's ports).
HEALTH_URLS = {
    "kube-apiserver": "https://127.0.0.1:6443/readyz",
    "kube-controller-manager": "https://127.0.0.1:10257/healthz",
    "kube-scheduler": "https://127.0.0.1:10259/healthz",
}
#: The annotation naming the component a run stopped on the node (its restore patch removes it again).
COMPONENT_ANNOTATION = "alert-conformance/component"


@dataclass(frozen=True)
class ControlPlaneDownParams:
    """``hold_s`` bounds how long the component may stay stopped (the engine reverts well before)."""

    hold_s: float = 1800.0


class ControlPlaneDown(Injector):
    fault = "control-plane-down"
    node_fault = True

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, ControlPlaneDownParams(float(scenario.params.get("hold_s", 1800))))

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        if backend == "cluster":
            return (
                "a control plane's static pod manifests cannot be reached through the API: a managed control plane "
                "exposes none, and the suite has no way onto a self-managed one's nodes; it is not applied"
            )
        if target.component == "kube-apiserver":
            return (
                "the suite reads Prometheus, Alertmanager and the capture webhook through the API server's proxy: "
                "with the only API server stopped it could observe nothing until the revert"
            )
        return None

    @property
    def component(self) -> str:
        if self.target.component not in HEALTH_URLS:
            raise BackendError(f"control-plane-down: unknown component {self.target.component!r}")
        return str(self.target.component)

    def describe(self) -> str:
        return (
            f"move {self.component}.yaml out of /etc/kubernetes/manifests on node {self.target.node}: the kubelet "
            f"stops the static pod and deletes its mirror pod (at most {self.params.hold_s:g}s)"
        )

    def describe_revert(self) -> str:
        return (
            f"move {self.component}.yaml back on node {self.target.node} and wait until the container runs and "
            f"{HEALTH_URLS[self.component]} answers"
        )

    def permissions(self) -> list[Permission]:
        return [Permission("get", "nodes"), Permission("patch", "nodes")]

    def _agent_node(self, ctx: FaultContext) -> str:
        if ctx.node_agent is None or self.target.node is None:
            raise BackendError(f"control-plane-down: the {ctx.backend} backend has no way onto a control-plane node")
        return self.target.node

    def apply(self, ctx: FaultContext) -> None:
        node = self._agent_node(ctx)
        assert ctx.node_agent is not None
        patch = {"metadata": {"annotations": {COMPONENT_ANNOTATION: self.component}}}
        patch_with_restore(ctx, r.NODES, node, None, patch, self.fault)
        ctx.node_agent.move_static_manifest(node, self.component, away=True)
        agent, component = ctx.node_agent, self.component
        ctx.client.wait_for(
            f"{component} to stop on {node}",
            lambda: True if not agent.container_running(node, component) else None,
            timeout_s=ctx.timeouts.node_s,
            interval_s=ctx.timeouts.poll_s,
        )

    def revert(self, ctx: FaultContext) -> None:
        node = ctx.client.get_or_none(r.NODES, str(self.target.node))
        if node is not None:
            self._start(ctx, node)

    @classmethod
    def _start(cls, ctx: FaultContext, node: Obj) -> str | None:
        """Move back the manifest this fault parked on ``node`` (named by its annotation) and wait until the
        component serves again; the component, or None when the node carries no such fault."""
        annotations = node["metadata"].get("annotations") or {}
        component = annotations.get(COMPONENT_ANNOTATION)
        if annotations.get(lb.FAULT_ANNOTATION) != cls.fault or component not in HEALTH_URLS:
            return None
        name = node["metadata"]["name"]
        agent = ctx.node_agent
        if agent is None:
            raise BackendError(f"node {name}: cannot move {component}.yaml back on the {ctx.backend} backend")
        agent.move_static_manifest(name, component, away=False)
        ctx.client.wait_for(
            f"{component} to serve again on {name}",
            lambda: (
                True
                if agent.container_running(name, component) and agent.healthy(name, HEALTH_URLS[component])
                else None
            ),
            timeout_s=ctx.timeouts.node_s,
            interval_s=ctx.timeouts.poll_s,
        )
        restore(ctx, r.NODES, name, None)
        return str(component)

    @classmethod
    def clean_leftover(cls, ctx: FaultContext, resource: Resource, obj: Obj) -> str:
        component = cls._start(ctx, obj)
        if component is None:
            return f"nothing to undo on node {obj['metadata']['name']}"
        return f"moved {component}.yaml back on node {obj['metadata']['name']}"
