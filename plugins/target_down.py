"""target-down: the workload's metrics endpoint stops answering scrapes (``up`` goes to 0, the target stays).

The pods stay in the Service's endpoints (a broken selector would make the target *vanish*, and ``up == 0``
alerts would never fire). On a stand-in the exporter is told to answer /metrics with 503; on a real workload
(an allowed namespace on an existing cluster) a NetworkPolicy denies ingress to its pods, which also cuts
their other traffic, hence disruptive.
"""

from __future__ import annotations

from typing import Any

from conformance_plugins._admin import AdminEndpointFault, AdminParams

from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.faults import FaultContext, Injector, Permission, workload_resource
from conformance.kube.placement import BackendName, ResolvedTarget
from conformance.model.scenario import Scenario


class TargetDown(AdminEndpointFault):
    fault = "target-down"
    disruptive = True
    setting = "target_down"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, AdminParams("target_down", 1.0))

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        if target.workload is None or target.workload.scrape is None:
            return f"{target.describe()} has no scrape target"
        return None

    @property
    def policy_name(self) -> str:
        return f"alert-conformance-deny-{self.target.workload_name}"[:63].rstrip("-")

    def describe(self) -> str:
        if self.target.standin:
            return f"make the stand-in exporter of {self.target.describe()} answer /metrics with 503"
        return f"create NetworkPolicy {self.policy_name} denying all ingress to the pods of {self.target.describe()}"

    def describe_revert(self) -> str:
        if self.target.standin:
            return super().describe_revert()
        return f"delete NetworkPolicy {self.target.namespace}/{self.policy_name}"

    def permissions(self) -> list[Permission]:
        if self.target.standin:
            return super().permissions()
        ns = self.target.namespace
        return [
            Permission("get", "deployments", "apps", ns),
            Permission("create", "networkpolicies", "networking.k8s.io", ns),
            Permission("delete", "networkpolicies", "networking.k8s.io", ns),
        ]

    def apply(self, ctx: FaultContext) -> None:
        if self.target.standin:
            super().apply(ctx)
            return
        workload = ctx.client.get(workload_resource(self.target), self.target.workload_name, self.target.namespace)
        policy: dict[str, Any] = {
            "metadata": {
                "name": self.policy_name,
                "labels": lb.managed_labels(ctx.run_id, created=True),
                "annotations": {lb.FAULT_ANNOTATION: self.fault},
            },
            "spec": {
                "podSelector": {"matchLabels": workload["spec"]["selector"]["matchLabels"]},
                "policyTypes": ["Ingress"],
                "ingress": [],
            },
        }
        ctx.client.create(r.NETWORKPOLICIES, policy, self.target.namespace)

    def revert(self, ctx: FaultContext) -> None:
        if self.target.standin:
            super().revert(ctx)
        else:
            ctx.client.delete(r.NETWORKPOLICIES, self.policy_name, self.target.namespace)
