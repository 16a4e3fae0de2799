"""ksm-list-errors: kube-state-metrics loses the right to list and watch one resource.

The chart gives kube-state-metrics a ClusterRole (kube-state-metrics chart templates/role.yaml: one rule per
collector, verbs list and watch) labelled ``app.kubernetes.io/name=kube-state-metrics``. The fault takes the
resource's verbs (param ``resource``; param ``denied``: list and watch, or watch only) out of its rules, recording
the rules as they were; the API server then refuses the
reflector's requests for it (403): the open watch streams on until it ends, then every List fails and is retried
with client-go's back-off, counted in ``kube_state_metrics_list_total{result="error"}`` on the telemetry port
(scraped when the chart's ``selfMonitor.enabled`` is on). Revert: the rules as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.errors import BackendError
from conformance.kube import resources as r
from conformance.kube.faults import FaultContext, Injector, Permission, patch_with_restore, restore
from conformance.kube.placement import ResolvedTarget
from conformance.model.scenario import Scenario, param_value

#: The chart's labels on kube-state-metrics' ClusterRole (``kube-state-metrics.labels``).
KSM_SELECTOR = "app.kubernetes.io/name=kube-state-metrics"


@dataclass(frozen=True)
class KsmListErrorsParams:
    resource: str
    watch_only: bool = False


class KsmListErrors(Injector):
    fault = "ksm-list-errors"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        denied = str(param_value(scenario, "denied"))
        if denied not in ("list-watch", "watch"):
            raise ValueError(f"ksm-list-errors: param denied must be 'list-watch' or 'watch', got {denied!r}")
        return cls(target, KsmListErrorsParams(str(param_value(scenario, "resource")), denied == "watch"))

    @property
    def verbs(self) -> tuple[str, ...]:
        return ("watch",) if self.params.watch_only else ("list", "watch")

    def describe(self) -> str:
        return (
            f"take {'/'.join(self.verbs)} on {self.params.resource} out of the rules of kube-state-metrics' "
            f"ClusterRole ({KSM_SELECTOR}): those requests of its reflector are refused"
        )

    def describe_revert(self) -> str:
        return "restore the ClusterRole's rules"

    def permissions(self) -> list[Permission]:
        return [
            Permission("list", "clusterroles", "rbac.authorization.k8s.io"),
            Permission("get", "clusterroles", "rbac.authorization.k8s.io"),
            Permission("patch", "clusterroles", "rbac.authorization.k8s.io"),
        ]

    def _role(self, ctx: FaultContext) -> str:
        roles = ctx.client.list(r.CLUSTERROLES, label_selector=KSM_SELECTOR)
        if len(roles) != 1:
            names = sorted(role["metadata"]["name"] for role in roles)
            raise BackendError(
                f"ksm-list-errors needs exactly one ClusterRole labelled {KSM_SELECTOR}, found {names or 'none'}"
            )
        return str(roles[0]["metadata"]["name"])

    def apply(self, ctx: FaultContext) -> None:
        name = self._role(ctx)
        rules: list[dict[str, Any]] = ctx.client.get(r.CLUSTERROLES, name).get("rules") or []
        kept = without_verbs(rules, self.params.resource, self.verbs)
        if kept == rules:
            raise BackendError(
                f"ksm-list-errors: ClusterRole {name} grants nothing on {self.params.resource}: "
                "kube-state-metrics does not watch it"
            )
        patch_with_restore(ctx, r.CLUSTERROLES, name, None, {"rules": kept}, self.fault)

    def revert(self, ctx: FaultContext) -> None:
        for role in ctx.client.list(r.CLUSTERROLES, label_selector=KSM_SELECTOR):
            restore(ctx, r.CLUSTERROLES, role["metadata"]["name"], None)


def without_verbs(rules: list[dict[str, Any]], resource: str, verbs: tuple[str, ...]) -> list[dict[str, Any]]:
    """``rules`` where ``resource`` no longer has ``verbs``: a rule naming it with other resources is split in
    two (the others keep every verb); a rule left with no resource or no verb is dropped."""
    kept: list[dict[str, Any]] = []
    for rule in rules:
        resources = rule.get("resources")
        if resources is None or resource not in resources:
            kept.append(rule)
            continue
        rest = [item for item in resources if item != resource]
        if rest:
            kept.append({**rule, "resources": rest})
        remaining = [verb for verb in rule.get("verbs", []) if verb not in verbs]
        if remaining:
            kept.append({**rule, "resources": [resource], "verbs": remaining})
    return kept
