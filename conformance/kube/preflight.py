"""The RBAC preflight: every permission the run needs, asked with SelfSubjectAccessReviews before any write.

Missing permissions are listed all at once in one :class:`SafetyError`, each as ``verb resource in namespace``,
so whoever grants them can do it in one go.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from conformance.errors import SafetyError
from conformance.kube.client import KubeClient
from conformance.kube.faults import Permission

#: what the cluster backend does in a namespace it creates: stand-ins, rules, capture, reading captures
NAMESPACE_PERMISSIONS: tuple[tuple[str, str, str, str], ...] = (
    ("create", "deployments", "apps", ""),
    ("get", "deployments", "apps", ""),
    ("create", "statefulsets", "apps", ""),
    ("create", "daemonsets", "apps", ""),
    ("create", "services", "", ""),
    ("create", "configmaps", "", ""),
    ("create", "persistentvolumeclaims", "", ""),
    ("create", "jobs", "batch", ""),
    ("create", "cronjobs", "batch", ""),
    ("list", "pods", "", ""),
    ("create", "servicemonitors", "monitoring.coreos.com", ""),
    ("create", "prometheusrules", "monitoring.coreos.com", ""),
    ("create", "alertmanagerconfigs", "monitoring.coreos.com", ""),
    ("get", "services", "", "proxy"),
    ("create", "pods", "", "proxy"),
    ("create", "horizontalpodautoscalers", "autoscaling", ""),
    ("create", "resourcequotas", "", ""),
    ("create", "poddisruptionbudgets", "policy", ""),
)


def namespace_permissions(namespace: str) -> list[Permission]:
    return [Permission(verb, res, group, namespace, sub) for verb, res, group, sub in NAMESPACE_PERMISSIONS]


def cluster_permissions() -> list[Permission]:
    """Cluster-wide: creating/deleting the suite's namespaces, reading nodes and the monitoring CRs."""
    return [
        Permission("create", "namespaces"),
        Permission("delete", "namespaces"),
        Permission("list", "namespaces"),
        Permission("list", "nodes"),
        Permission("list", "prometheuses", "monitoring.coreos.com"),
        Permission("list", "alertmanagers", "monitoring.coreos.com"),
    ]


def unique(permissions: Iterable[Permission]) -> list[Permission]:
    seen: dict[Permission, None] = {}
    for permission in permissions:
        seen.setdefault(permission, None)
    return list(seen)


def missing_permissions(client: KubeClient, permissions: Sequence[Permission]) -> list[Permission]:
    """The permissions a SelfSubjectAccessReview denies (asks each once; reads and writes nothing else)."""
    return [
        p
        for p in unique(permissions)
        if not client.can_i(p.verb, p.resource, group=p.group, namespace=p.namespace, subresource=p.subresource)
    ]


def preflight(client: KubeClient, permissions: Sequence[Permission]) -> None:
    """Raise :class:`SafetyError` listing every missing permission."""
    missing = missing_permissions(client, permissions)
    if missing:
        raise SafetyError(
            f"the current user lacks {len(missing)} permission(s) this run needs; nothing was touched:\n  "
            + "\n  ".join(p.describe() for p in missing)
        )
