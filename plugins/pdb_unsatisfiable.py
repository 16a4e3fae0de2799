"""pdb-unsatisfiable: the PodDisruptionBudget over the workload's pods gets ``minAvailable`` = replicas + 1.

Its desired healthy count is then above any number of healthy pods the workload can have, while its pods stay
as they are: the state KubePdbNotEnoughHealthyPods reads, the same on every backend. A budget written with
``maxUnavailable`` has it removed in the same merge patch (a budget holds one of the two). The original spec is
recorded on the budget; the revert restores it.
"""

from __future__ import annotations

from conformance_plugins._workload_policy import WorkloadPolicyFault

from conformance.kube import resources as r
from conformance.kube.faults import FaultContext
from conformance.kube.placement import ResolvedTarget
from conformance.model.workloads import unsatisfiable_min_available


class PdbUnsatisfiable(WorkloadPolicyFault):
    fault = "pdb-unsatisfiable"
    policy = r.PDBS

    @classmethod
    def policy_name(cls, target: ResolvedTarget) -> str | None:
        return target.budget.name if target.budget else None

    def describe(self) -> str:
        return f"set {self.policy_ref}'s minAvailable to one more than the replicas of {self.target.describe()}"

    def describe_revert(self) -> str:
        return f"restore {self.policy_ref}'s spec"

    def apply(self, ctx: FaultContext) -> None:
        replicas = self.workload_replicas(ctx)
        self.patch_policy(
            ctx, {"spec": {"minAvailable": unsatisfiable_min_available(replicas), "maxUnavailable": None}}
        )
