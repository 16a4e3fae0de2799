"""hpa-maxed: the workload's HorizontalPodAutoscaler gets ``spec.maxReplicas`` = the replicas it runs now.

The autoscaler then runs at its maximum (``status.currentReplicas == spec.maxReplicas``, max != min): the state
KubeHpaMaxedOut reads, the same on every backend. It needs no load and no metrics-server (kind has none): the
autoscaler's current replicas are the scale's ``spec.replicas``, which nothing changes. The HPA's original
``maxReplicas`` is recorded on it; the revert restores it.
"""

from __future__ import annotations

from conformance_plugins._workload_policy import WorkloadPolicyFault

from conformance.errors import BackendError
from conformance.kube import resources as r
from conformance.kube.faults import FaultContext
from conformance.kube.placement import ResolvedTarget


class HpaMaxed(WorkloadPolicyFault):
    fault = "hpa-maxed"
    policy = r.HPAS

    @classmethod
    def policy_name(cls, target: ResolvedTarget) -> str | None:
        return target.autoscaler.name if target.autoscaler else None

    def describe(self) -> str:
        return f"set {self.policy_ref}'s maxReplicas to the replicas {self.target.describe()} runs"

    def describe_revert(self) -> str:
        return f"restore {self.policy_ref}'s maxReplicas"

    def apply(self, ctx: FaultContext) -> None:
        replicas = self.workload_replicas(ctx)
        hpa = ctx.client.get(r.HPAS, self.params.name, self.target.namespace)
        minimum = int(hpa.get("spec", {}).get("minReplicas", 1))
        if replicas <= minimum:
            raise BackendError(
                f"{self.target.describe()} runs {replicas} replicas, its autoscaler's minReplicas {minimum}: "
                "maxReplicas lowered to them would equal minReplicas, which is not maxed out"
            )
        self.patch_policy(ctx, {"spec": {"maxReplicas": replicas}})
