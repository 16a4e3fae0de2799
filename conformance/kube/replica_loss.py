"""High availability on Kubernetes: one replica of the alerting stack lost as a real action, with its revert.

On kind the stack is kube-prometheus-stack: the Prometheus Operator runs each Prometheus and each Alertmanager as
a StatefulSet whose pods carry ``app.kubernetes.io/name: prometheus`` (or ``alertmanager``). A replica is lost by
deleting its pod at once (grace 0: Prometheus gets no time to flush, an Alertmanager none to leave its cluster,
as when the node under it stops answering); the StatefulSet recreates it. Every replica of the stack runs on the
kind worker reserved for monitoring (:mod:`conformance.kube.layout`), so stopping that node would lose every
replica at once, which is an outage, not the loss of one replica: the pod deletion is the honest form on kind.

The revert waits (with a deadline) until every StatefulSet that lost a pod has all its replicas ready again,
so the next wave starts with the whole stack; it runs after each wave, on any way out.

Which replica: the first pod by name (ordinal 0). On kind the Alertmanager peers share one configuration, so the
capture webhook cannot tell which peer sent a notification; for a peer lost after notifying, ordinal 0 is taken,
and the verdict still counts what the peers left send (not twice, resolved once).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.errors import ConformanceError
from conformance.kube import resources as r
from conformance.kube.faults import FaultContext
from conformance.model.run import ReplicaLoss

#: The label the Prometheus Operator puts on the pods of each component.
NAME_LABEL = "app.kubernetes.io/name"


def describe_loss(loss: ReplicaLoss, namespace: str) -> tuple[str, str]:
    """The loss and its revert as the plan prints them."""
    component = loss.component
    moment = "once the wave's alerts are pending" if loss.when == "pending" else "once the wave's alerts notified"
    action = (
        f"{loss.describe()}: delete the first pod labelled {NAME_LABEL}={component} in {namespace} (grace 0s) {moment}"
    )
    revert = f"the {component} StatefulSet recreates it: wait (with a deadline) until all its replicas are ready"
    return action, revert


@dataclass
class ReplicaKiller:
    """Loses replicas of the stack in ``namespace`` and waits for them to come back (see the module docstring)."""

    namespace: str
    #: StatefulSets that lost a pod and are not yet waited for, with the pod each lost.
    lost: dict[str, str] = field(default_factory=dict)

    def lose(self, ctx: FaultContext, loss: ReplicaLoss) -> str:
        """Delete the first running pod of ``loss``'s component; returns its name."""
        selector = f"{NAME_LABEL}={loss.component}"
        pods = [
            pod
            for pod in ctx.client.list(r.PODS, self.namespace, label_selector=selector)
            if not pod["metadata"].get("deletionTimestamp")
        ]
        if len(pods) < 2:
            raise ConformanceError(
                f"{len(pods)} {loss.component} pod(s) labelled {selector} in {self.namespace}: "
                "losing one needs at least two replicas"
            )
        pod = min(pods, key=lambda item: str(item["metadata"]["name"]))
        name = str(pod["metadata"]["name"])
        owners = [o for o in pod["metadata"].get("ownerReferences") or [] if o.get("kind") == "StatefulSet"]
        statefulset = str(owners[0]["name"]) if owners else name.rsplit("-", 1)[0]
        self.lost[statefulset] = name  # before the delete: a half-done loss is waited for too
        ctx.client.delete(r.PODS, name, self.namespace, grace_period_s=0)
        ctx.status(f"lost {name} ({loss.describe()})")
        return name

    def restore(self, ctx: FaultContext) -> None:
        """Wait until every StatefulSet that lost a pod is ready again; each is waited for, whatever the others
        do, and the first failure is raised once all were."""
        errors: list[Exception] = []
        for statefulset in sorted(self.lost):
            try:
                ctx.client.wait_workload_ready(
                    r.STATEFULSETS,
                    self.namespace,
                    statefulset,
                    timeout_s=ctx.timeouts.rollout_s,
                    interval_s=ctx.timeouts.poll_s,
                )
            except Exception as error:  # the other StatefulSets are still waited for
                errors.append(error)
            else:
                ctx.status(f"{statefulset} has all its replicas again")
        self.lost.clear()
        if errors:
            raise errors[0]
