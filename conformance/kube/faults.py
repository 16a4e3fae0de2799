"""What a fault injector is, what it gets to act with, and the shared mechanics of a revertible change.

An injector (one module per fault in ``plugins/``, package ``conformance_plugins``) is built from a resolved
target and a small frozen params dataclass, and offers ``describe()``/``describe_revert()`` for the plan,
``permissions()`` for the RBAC preflight, and ``apply(ctx)``/``revert(ctx)``. ``revert`` must be safe to call
when ``apply`` failed half-way or never ran: it undoes only what is recorded on the objects.

A change to an existing object goes through :func:`patch_with_restore`: the merge patch that undoes it is stored
in an annotation on the object itself, with the fault's name and the run's labels, so :func:`restore` (and a
later run cleaning leftovers) can put it back exactly.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from conformance.errors import BackendError
from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.client import KubeClient, Obj, PatchStrategy, selector_string
from conformance.kube.exec import PodExecutor
from conformance.kube.patching import inverse_merge_patch
from conformance.kube.placement import BackendName, ResolvedTarget
from conformance.kube.resources import Resource
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class Permission:
    """One verb on one resource, as a SelfSubjectAccessReview asks it. ``namespace`` None: cluster-wide."""

    verb: str
    resource: str
    group: str = ""
    namespace: str | None = None
    subresource: str = ""

    def describe(self) -> str:
        what = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        group = f".{self.group}" if self.group else ""
        where = f" in namespace {self.namespace}" if self.namespace else " (cluster-wide)"
        return f"{self.verb} {what}{group}{where}"


@dataclass(frozen=True)
class Timeouts:
    """Deadlines (seconds) for the waits faults make; tests shrink them."""

    rollout_s: float = 300.0
    node_s: float = 180.0
    delete_s: float = 120.0
    exec_s: float = 60.0
    poll_s: float = 2.0


class NodeAgent(Protocol):
    """Acts on a node itself (kind: ``docker exec``): its kubelet, and the kubelet's static pod manifests."""

    def stop_kubelet(self, node: str, *, hold_s: float) -> None: ...

    def start_kubelet(self, node: str) -> None: ...

    def move_static_manifest(self, node: str, component: str, *, away: bool) -> None:
        """Move ``/etc/kubernetes/manifests/<component>.yaml`` out of the kubelet's static pod folder (``away``)
        or back; doing it twice is harmless."""

    def container_running(self, node: str, component: str) -> bool:
        """Whether a container named ``component`` runs on the node (the container runtime's view)."""

    def healthy(self, node: str, url: str) -> bool:
        """Whether ``url`` (a component's health endpoint on the node's loopback) answers 2xx."""


@dataclass
class FaultContext:
    """What an injector acts with: the API client, ``pods/exec``, the node agent, the run id and deadlines."""

    client: KubeClient
    executor: PodExecutor
    run_id: str
    backend: BackendName
    node_agent: NodeAgent | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    status: Callable[[str], None] = field(default=lambda _message: None)


class Injector(ABC):
    """Base of every fault injector. Subclasses set the class attributes and implement the four methods."""

    #: the fault kind of :data:`conformance.model.scenario.FAULT_KINDS` this injector realises
    fault: ClassVar[str]
    #: disruptive faults need ``--allow-disruption`` on an existing cluster
    disruptive: ClassVar[bool] = True
    #: node faults need ``--allow-nodes`` on an existing cluster
    node_fault: ClassVar[bool] = False
    #: node-loss faults take the whole node away (its kubelet stops): every pod there goes with it, so the plan
    #: never puts two of them on one worker in a wave
    node_loss: ClassVar[bool] = False

    def __init__(self, target: ResolvedTarget, params: Any) -> None:
        self.target = target
        self.params = params

    @classmethod
    @abstractmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        """The injector for one scenario at ``level`` (None for faults without a level)."""

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        """Why this fault cannot be honest on ``backend`` for ``target`` (None: it can run)."""
        return None

    def params_skip_reason(self, backend: BackendName) -> str | None:
        """Why this scenario's parameters ask for a state ``backend`` cannot produce (None: it can).

        :meth:`skip_reason` answers for the fault and its target; the parameters are known once built, and a
        parameter the backend would silently ignore must skip the scenario with the reason instead.
        """
        return None

    @abstractmethod
    def describe(self) -> str:
        """One line for the plan: what the fault changes."""

    @abstractmethod
    def describe_revert(self) -> str:
        """One line for the plan: how the change is undone."""

    @abstractmethod
    def permissions(self) -> list[Permission]:
        """Every API permission :meth:`apply` and :meth:`revert` need."""

    @abstractmethod
    def apply(self, ctx: FaultContext) -> None:
        """Inject the fault. The revert is already registered when this runs."""

    @abstractmethod
    def revert(self, ctx: FaultContext) -> None:
        """Undo what is recorded; safe after a partial or missing apply, and safe to call twice."""

    @classmethod
    def clean_leftover(cls, ctx: FaultContext, resource: Resource, obj: Obj) -> str:
        """Undo what a killed earlier run left on ``obj``; returns what was done. Default: restore or delete."""
        meta = obj["metadata"]
        if meta.get("labels", {}).get(lb.CREATED_KEY) == "true":
            ctx.client.delete(resource, meta["name"], meta.get("namespace"))
            return f"deleted {resource.kind} {_name(obj)}"
        if lb.RESTORE_ANNOTATION in meta.get("annotations", {}):
            restore(ctx, resource, meta["name"], meta.get("namespace"))
            return f"restored {resource.kind} {_name(obj)}"
        return f"nothing to undo on {resource.kind} {_name(obj)}"


def _name(obj: Obj) -> str:
    meta = obj["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else str(meta["name"])


def patch_with_restore(
    ctx: FaultContext,
    resource: Resource,
    name: str,
    namespace: str | None,
    patch: Obj,
    fault: str,
    *,
    strategy: PatchStrategy = "merge",
) -> Obj:
    """Apply ``patch`` and record on the object the merge patch that undoes it (and the run's labels).

    Refuses when the object already carries a restore annotation: two faults stacked on one object could not
    be undone in order. Strategic patches are only used where they equal merge patches (maps, no lists).
    """
    current = ctx.client.get(resource, name, namespace)
    annotations = current.get("metadata", {}).get("annotations", {}) or {}
    if lb.RESTORE_ANNOTATION in annotations:
        raise BackendError(
            f"{resource.kind} {name} already carries a fault ({annotations.get(lb.FAULT_ANNOTATION)}); "
            "revert it first (a later run does this automatically)"
        )
    marks = {
        "metadata": {
            "labels": lb.managed_labels(ctx.run_id),
            "annotations": {lb.FAULT_ANNOTATION: fault, lb.RESTORE_ANNOTATION: ""},
        }
    }
    full = _deep_merge(marks, patch)
    inverse = inverse_merge_patch(current, full)
    full["metadata"]["annotations"][lb.RESTORE_ANNOTATION] = json.dumps(inverse, sort_keys=True)
    return ctx.client.patch(resource, name, full, namespace, strategy=strategy)


def restore(ctx: FaultContext, resource: Resource, name: str, namespace: str | None) -> bool:
    """Apply the restore patch recorded on the object; False when there is none (nothing to undo)."""
    current = ctx.client.get_or_none(resource, name, namespace)
    if current is None:
        return False
    text = (current.get("metadata", {}).get("annotations", {}) or {}).get(lb.RESTORE_ANNOTATION)
    if not text:
        return False
    try:
        inverse = json.loads(text)
    except ValueError:
        raise BackendError(f"{resource.kind} {name}: unreadable {lb.RESTORE_ANNOTATION} annotation") from None
    ctx.client.patch(resource, name, inverse, namespace)
    return True


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(base))
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = json.loads(json.dumps(value))
    return result


def workload_resource(target: ResolvedTarget) -> Resource:
    return r.WORKLOADS[target.workload_kind]


def workload_pods(ctx: FaultContext, target: ResolvedTarget) -> list[Obj]:
    """The workload's pods, found through its own ``spec.selector.matchLabels``."""
    obj = ctx.client.get(workload_resource(target), target.workload_name, target.namespace)
    match = obj.get("spec", {}).get("selector", {}).get("matchLabels", {})
    if not match:
        raise BackendError(f"{target.describe()} has no spec.selector.matchLabels to find its pods by")
    return ctx.client.list(r.PODS, target.namespace, label_selector=selector_string(match))


def running_pod(ctx: FaultContext, target: ResolvedTarget) -> Obj:
    """One running pod of the workload (the first by name), for exec."""
    pods = sorted(
        (p for p in workload_pods(ctx, target) if p.get("status", {}).get("phase") == "Running"),
        key=lambda p: str(p["metadata"]["name"]),
    )
    if not pods:
        raise BackendError(f"{target.describe()} has no running pod to act in")
    return pods[0]


def wait_workload_ready(ctx: FaultContext, target: ResolvedTarget) -> None:
    ctx.client.wait_workload_ready(
        workload_resource(target),
        str(target.namespace),
        target.workload_name,
        timeout_s=ctx.timeouts.rollout_s,
        interval_s=ctx.timeouts.poll_s,
    )


def workload_permissions(target: ResolvedTarget, *verbs: str) -> list[Permission]:
    group, plural = ("apps", r.WORKLOADS[target.workload_kind].plural) if target.workload else ("apps", "deployments")
    return [Permission(verb, plural, group, target.namespace) for verb in verbs]


class FaultLookup(Protocol):
    """What the engine needs of :class:`conformance_plugins.registry.FaultRegistry`."""

    def get(self, name: str) -> type[Injector]: ...


def load_registry() -> FaultLookup:
    """The built-in injectors plus every ``alert_conformance_faults`` entry point.

    Imported by name at run time: the engine does not depend on ``conformance_plugins`` statically (the
    dependency points plugins -> engine), and the pytest plugin passes its own registry, with the vendor's
    ``pytest_conformance_register_faults`` additions, where it has one.
    """
    import importlib

    module = importlib.import_module("conformance_plugins.registry")
    registry: FaultLookup = module.default_registry()
    return registry
