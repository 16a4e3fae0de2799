"""quota-usage: a ResourceQuota's hard limit of one resource lowered until used/hard is the level.

``used`` is what the quota controller reports in ``status.used`` when the fault starts; the new hard limit is
:func:`conformance.quantities.lowered_hard` of it (the twin's very computation), written on the resource's step
(millicores, bytes, whole pods). Above 1 the quota is cut below what the namespace already uses: running pods
stay, new ones are refused, which is how a quota is exceeded on a real cluster. The quota's original ``hard`` is
recorded on it; the revert restores it.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.errors import BackendError
from conformance.kube import resources as r
from conformance.kube.faults import FaultContext, Injector, Permission, patch_with_restore, restore
from conformance.kube.placement import BackendName, ResolvedTarget
from conformance.model.scenario import Scenario, param_value
from conformance.quantities import format_quota, lowered_hard, parse_quantity


@dataclass(frozen=True)
class QuotaParams:
    quota: str
    resource: str
    level: float


class QuotaUsage(Injector):
    fault = "quota-usage"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        if level is None:
            raise BackendError(f"scenario {scenario.id}: quota-usage needs a level (used/hard)")
        name = target.quota.name if target.quota else ""
        return cls(target, QuotaParams(name, str(param_value(scenario, "resource")), float(level)))

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        if target.quota is None:
            return f"{target.describe()} is not a ResourceQuota declared in the environment"
        return None

    def describe(self) -> str:
        return (
            f"lower ResourceQuota {self.target.namespace}/{self.params.quota}'s hard {self.params.resource} until "
            f"used/hard is {self.params.level:g}"
        )

    def describe_revert(self) -> str:
        return f"restore ResourceQuota {self.target.namespace}/{self.params.quota}'s hard limits"

    def permissions(self) -> list[Permission]:
        ns = self.target.namespace
        return [
            Permission("get", r.RESOURCEQUOTAS.plural, "", ns),
            Permission("patch", r.RESOURCEQUOTAS.plural, "", ns),
        ]

    def apply(self, ctx: FaultContext) -> None:
        params = self.params
        quota = ctx.client.get(r.RESOURCEQUOTAS, params.quota, self.target.namespace)
        used = (quota.get("status", {}).get("used") or {}).get(params.resource)
        if used is None:
            raise BackendError(
                f"ResourceQuota {self.target.namespace}/{params.quota} reports no used {params.resource} yet "
                "(the quota controller has not counted it)"
            )
        try:
            hard = lowered_hard(parse_quantity(used), params.level, params.resource)
        except ValueError as error:
            raise BackendError(f"ResourceQuota {self.target.namespace}/{params.quota}: {error}") from None
        patch = {"spec": {"hard": {params.resource: format_quota(hard, params.resource)}}}
        patch_with_restore(ctx, r.RESOURCEQUOTAS, params.quota, self.target.namespace, patch, self.fault)

    def revert(self, ctx: FaultContext) -> None:
        restore(ctx, r.RESOURCEQUOTAS, self.params.quota, self.target.namespace)
