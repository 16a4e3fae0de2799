"""stuck-rollout: a new revision whose image can never be pulled, the same failure the twin simulates.

**Mechanism** (as :mod:`conformance.sim.faults` ``_stuck_rollout``): every container of the pod template gets an
image that cannot be pulled (:func:`unpullable_image`: same repository under the ``.invalid`` domain, which never
resolves, RFC 6761) with ``imagePullPolicy: Always``, so no cached or pre-loaded image can stand in and the
kubelet must try the pull. The workload keeps its own update strategy and replica count; its controller rolls the
new revision as it always does, and the new pods never become ready:

* Deployment (the stand-ins' default RollingUpdate, 25 %/25 %): the new ReplicaSet gets maxSurge + maxUnavailable
  pods, the old one loses maxUnavailable; ``updated < desired``, ``unavailable > 0``;
* StatefulSet (RollingUpdate): the highest ordinal is replaced, then the rollout waits for it forever;
* DaemonSet (RollingUpdate, maxUnavailable 1): one pod is replaced.

**Timing on kind**: the new pods are scheduled at once and stay ``Pending``; the first pull fails within seconds
(``ErrImagePull``), then the kubelet backs off (10 s doubling to 5 min) and the container waits in
``ImagePullBackOff``, turning ``ErrImagePull`` again for each retry. A Deployment turns ``Progressing=False``
(``ProgressDeadlineExceeded``) after its ``progressDeadlineSeconds``: 600 s, or the scenario's
``progress_deadline_s``.

**Timing on the twin**: the new pods show ``ImagePullBackOff`` from the moment they exist and never
``ErrImagePull``; ``Progressing`` turns false after a fixed 600 s (the twin does not read ``progress_deadline_s``).
An alert on ``kube_pod_container_status_waiting_reason{reason=~"ImagePullBackOff|ErrImagePull"}`` fires on both.

Revert: the recorded patch restores the original containers (images and pull policies); wait for the rollout.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from conformance.kube.client import Obj
from conformance.kube.faults import (
    FaultContext,
    Injector,
    Permission,
    patch_with_restore,
    restore,
    wait_workload_ready,
    workload_permissions,
    workload_resource,
)
from conformance.kube.placement import ResolvedTarget
from conformance.model.scenario import Scenario

#: a registry under a domain that never resolves (RFC 6761 reserves ``.invalid``): the pull fails on any cluster
UNPULLABLE_REGISTRY = "unpullable.alert-conformance.invalid"
#: the tag the twin gives a broken revision's image (``conformance.sim.cluster._broken_image``)
UNPULLABLE_TAG = "conformance-does-not-exist"


def unpullable_image(image: str) -> str:
    """``image``'s repository path under :data:`UNPULLABLE_REGISTRY`, tagged :data:`UNPULLABLE_TAG`.

    The original registry host (a first path component with a dot or a port, or ``localhost``) is dropped, so
    the result is always a valid reference: ``localhost:5000/app:1`` -> ``<registry>/app:<tag>``.
    """
    name = image.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    repository = name[:colon] if colon > slash else name
    first, _, rest = repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        repository = rest
    return f"{UNPULLABLE_REGISTRY}/{repository}:{UNPULLABLE_TAG}"


def unpullable_template(workload: Obj) -> dict[str, Any]:
    """A template patch giving every container an image that can never be pulled (nothing else changes)."""
    containers = copy.deepcopy(workload["spec"]["template"]["spec"]["containers"])
    for container in containers:
        container["image"] = unpullable_image(str(container["image"]))
        container["imagePullPolicy"] = "Always"
    return {"spec": {"template": {"spec": {"containers": containers}}}}


@dataclass(frozen=True)
class StuckRolloutParams:
    progress_deadline_s: int | None = None


class StuckRollout(Injector):
    fault = "stuck-rollout"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        deadline = scenario.params.get("progress_deadline_s")
        return cls(target, StuckRolloutParams(int(deadline) if deadline is not None else None))

    def describe(self) -> str:
        deadline = (
            f", progressDeadlineSeconds {self.params.progress_deadline_s}"
            if self.params.progress_deadline_s is not None and self.target.workload_kind == "Deployment"
            else ""
        )
        return (
            f"roll out a new revision of {self.target.describe()} whose images can never be pulled "
            f"({UNPULLABLE_REGISTRY}/...:{UNPULLABLE_TAG}, imagePullPolicy Always): its new pods wait in "
            f"ErrImagePull/ImagePullBackOff{deadline}"
        )

    def describe_revert(self) -> str:
        return f"restore the previous pod template of {self.target.describe()} and wait for the rollout"

    def permissions(self) -> list[Permission]:
        return workload_permissions(self.target, "get", "patch")

    def apply(self, ctx: FaultContext) -> None:
        resource = workload_resource(self.target)
        workload = ctx.client.get(resource, self.target.workload_name, self.target.namespace)
        patch = unpullable_template(workload)
        if self.params.progress_deadline_s is not None and self.target.workload_kind == "Deployment":
            patch["spec"]["progressDeadlineSeconds"] = self.params.progress_deadline_s
        patch_with_restore(ctx, resource, self.target.workload_name, self.target.namespace, patch, self.fault)

    def revert(self, ctx: FaultContext) -> None:
        if restore(ctx, workload_resource(self.target), self.target.workload_name, self.target.namespace):
            wait_workload_ready(ctx, self.target)
