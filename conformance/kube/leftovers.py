"""Cleaning what a killed earlier run left behind, found by the suite's labels, before anything new is done.

Objects labelled ``app.kubernetes.io/managed-by=alert-conformance`` with another run's id are handed to the
injector of the fault recorded on them (``alert-conformance/fault``), which restores or deletes them; objects
without a recorded fault are stand-ins and left to the deployment step (or, for namespaces the suite created on
an existing cluster, deleted).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.client import KubeApiError, Obj
from conformance.kube.faults import FaultContext, Injector
from conformance.kube.placement import PROTECTED_NAMESPACES
from conformance.kube.resources import Resource

#: where faults leave marks: nodes, PersistentVolumes and ClusterRoles (cluster-wide), then the namespaced kinds
#: the injectors change or create
SCANNED: tuple[Resource, ...] = (
    r.NODES,
    r.PVS,
    r.CLUSTERROLES,
    r.DEPLOYMENTS,
    r.STATEFULSETS,
    r.DAEMONSETS,
    r.PODS,
    r.PVCS,
    r.JOBS,
    r.NETWORKPOLICIES,
    r.SERVICES,
)

#: Cluster-wide kinds only some faults touch (pv-failed, ksm-list-errors): an identity that may not list them is
#: not asked to (preflight asks for what the chosen faults need), and cannot have left a fault on them either.
OPTIONAL: frozenset[Resource] = frozenset({r.PVS, r.CLUSTERROLES})

InjectorLookup = Callable[[str], type[Injector]]


def find_leftovers(ctx: FaultContext, namespaces: Sequence[str]) -> list[tuple[Resource, Obj]]:
    """Objects carrying a fault of another run, in ``namespaces`` (never kube-system) and on nodes."""
    found: list[tuple[Resource, Obj]] = []
    scopes = [ns for ns in dict.fromkeys(namespaces) if ns not in PROTECTED_NAMESPACES]
    for resource in SCANNED:
        for scope in [None] if not resource.namespaced else scopes:
            try:
                listed = ctx.client.list(resource, scope, label_selector=lb.MANAGED_SELECTOR)
            except KubeApiError as error:
                if resource in OPTIONAL and error.status == 403:
                    continue
                raise
            for obj in listed:
                meta = obj.get("metadata", {})
                if meta.get("labels", {}).get(lb.RUN_KEY) == ctx.run_id:
                    continue
                if lb.FAULT_ANNOTATION in (meta.get("annotations") or {}):
                    found.append((resource, obj))
    return found


def clean_leftovers(ctx: FaultContext, namespaces: Sequence[str], lookup: InjectorLookup) -> list[str]:
    """Undo every leftover fault; returns one line per object handled."""
    done: list[str] = []
    for resource, obj in find_leftovers(ctx, namespaces):
        fault = obj["metadata"]["annotations"][lb.FAULT_ANNOTATION]
        cleaner: Callable[[FaultContext, Resource, Obj], str]
        try:
            cleaner = lookup(fault).clean_leftover
        except Exception:
            cleaner = Injector.clean_leftover  # a fault whose plugin is gone: the generic restore or delete
        done.append(cleaner(ctx, resource, obj))
        ctx.status(f"leftover of an earlier run: {done[-1]}")
    return done


def stale_suite_namespaces(ctx: FaultContext) -> list[str]:
    """Namespaces an earlier run created on an existing cluster (labelled, created, another run)."""
    selector = f"{lb.MANAGED_SELECTOR},{lb.CREATED_KEY}=true"
    return [
        ns["metadata"]["name"]
        for ns in ctx.client.list(r.NAMESPACES, label_selector=selector)
        if ns["metadata"].get("labels", {}).get(lb.RUN_KEY) != ctx.run_id
        and ns["metadata"]["name"] not in PROTECTED_NAMESPACES
    ]
