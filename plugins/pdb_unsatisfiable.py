"""pdb-unsatisfiable: the PodDisruptionBudget over the workload's pods gets ``minAvailable`` = replicas + 1.

Its desired healthy count is then above any number of healthy pods the workload can have, while its pods stay
as they are: the state KubePdbNotEnoughHealthyPods reads, the same on every backend. A budget written with
``maxUnavailable`` has it removed in the same merge patch (a budget holds one of the two). The original spec is
recorded on the budget; the revert restores it.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.kube import resources as r
from conformance.kube.faults import (
    FaultContext,
    Injector,
    Permission,
    patch_with_restore,
    restore,
    workload_permissions,
    workload_resource,
)
from conformance.kube.placement import BackendName, ResolvedTarget
from conformance.model.scenario import Scenario
from conformance.model.workloads import unsatisfiable_min_available


@dataclass(frozen=True)
class PdbParams:
    budget: str


class PdbUnsatisfiable(Injector):
    fault = "pdb-unsatisfiable"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, PdbParams(target.budget.name if target.budget else ""))

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        if target.budget is None:
            return f"{target.describe()} has no PodDisruptionBudget declared in the environment"
        return None

    def describe(self) -> str:
        return (
            f"set PodDisruptionBudget {self.target.namespace}/{self.params.budget}'s minAvailable to one more than "
            f"the replicas of {self.target.describe()}"
        )

    def describe_revert(self) -> str:
        return f"restore PodDisruptionBudget {self.target.namespace}/{self.params.budget}'s spec"

    def permissions(self) -> list[Permission]:
        ns = self.target.namespace
        return [
            *workload_permissions(self.target, "get"),
            Permission("get", r.PDBS.plural, r.PDBS.group, ns),
            Permission("patch", r.PDBS.plural, r.PDBS.group, ns),
        ]

    def apply(self, ctx: FaultContext) -> None:
        workload = ctx.client.get(workload_resource(self.target), self.target.workload_name, self.target.namespace)
        replicas = int(workload.get("spec", {}).get("replicas", 1))
        patch = {"spec": {"minAvailable": unsatisfiable_min_available(replicas), "maxUnavailable": None}}
        patch_with_restore(ctx, r.PDBS, self.params.budget, self.target.namespace, patch, self.fault)

    def revert(self, ctx: FaultContext) -> None:
        restore(ctx, r.PDBS, self.params.budget, self.target.namespace)
