"""cordon-node: ``spec.unschedulable=true`` (as ``kubectl cordon``); nothing running stops.

The node's original ``spec.unschedulable`` is recorded on it; the revert restores exactly that (a node that
was already cordoned stays cordoned).
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.kube import resources as r
from conformance.kube.faults import FaultContext, Injector, Permission, patch_with_restore, restore
from conformance.kube.placement import ResolvedTarget
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class CordonParams:
    pass


class CordonNode(Injector):
    fault = "cordon-node"
    node_fault = True

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, CordonParams())

    def describe(self) -> str:
        return f"cordon node {self.target.node} (spec.unschedulable=true)"

    def describe_revert(self) -> str:
        return f"restore node {self.target.node}'s original spec.unschedulable"

    def permissions(self) -> list[Permission]:
        return [Permission("get", "nodes"), Permission("patch", "nodes")]

    def apply(self, ctx: FaultContext) -> None:
        patch_with_restore(
            ctx,
            r.NODES,
            str(self.target.node),
            None,
            {"spec": {"unschedulable": True}},
            self.fault,
            strategy="strategic",
        )

    def revert(self, ctx: FaultContext) -> None:
        restore(ctx, r.NODES, str(self.target.node), None)
