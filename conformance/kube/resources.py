"""The Kubernetes resources the suite reads or writes, with their API paths."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Resource:
    """A resource type: ``group`` is "" for the core API; ``namespaced`` decides the path form."""

    kind: str
    plural: str
    group: str
    version: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        """``/api/v1/namespaces/<ns>/pods/<name>`` and the like; ``namespace=None`` lists across namespaces."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace is not None:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        if name is not None:
            base += f"/{quote(name, safe=':')}"
        if subresource is not None:
            base += f"/{subresource}"
        return base


NAMESPACES = Resource("Namespace", "namespaces", "", "v1", namespaced=False)
NODES = Resource("Node", "nodes", "", "v1", namespaced=False)
PODS = Resource("Pod", "pods", "", "v1")
SERVICES = Resource("Service", "services", "", "v1")
CONFIGMAPS = Resource("ConfigMap", "configmaps", "", "v1")
SECRETS = Resource("Secret", "secrets", "", "v1")
PVCS = Resource("PersistentVolumeClaim", "persistentvolumeclaims", "", "v1")
PVS = Resource("PersistentVolume", "persistentvolumes", "", "v1", namespaced=False)
DEPLOYMENTS = Resource("Deployment", "deployments", "apps", "v1")
STATEFULSETS = Resource("StatefulSet", "statefulsets", "apps", "v1")
DAEMONSETS = Resource("DaemonSet", "daemonsets", "apps", "v1")
JOBS = Resource("Job", "jobs", "batch", "v1")
CRONJOBS = Resource("CronJob", "cronjobs", "batch", "v1")
NETWORKPOLICIES = Resource("NetworkPolicy", "networkpolicies", "networking.k8s.io", "v1")
STORAGECLASSES = Resource("StorageClass", "storageclasses", "storage.k8s.io", "v1", namespaced=False)
PROMETHEUSRULES = Resource("PrometheusRule", "prometheusrules", "monitoring.coreos.com", "v1")
SERVICEMONITORS = Resource("ServiceMonitor", "servicemonitors", "monitoring.coreos.com", "v1")
PROMETHEUSES = Resource("Prometheus", "prometheuses", "monitoring.coreos.com", "v1")
ALERTMANAGERS = Resource("Alertmanager", "alertmanagers", "monitoring.coreos.com", "v1")
ALERTMANAGERCONFIGS = Resource("AlertmanagerConfig", "alertmanagerconfigs", "monitoring.coreos.com", "v1alpha1")
CLUSTERROLES = Resource("ClusterRole", "clusterroles", "rbac.authorization.k8s.io", "v1", namespaced=False)
SELF_SUBJECT_ACCESS_REVIEWS = Resource(
    "SelfSubjectAccessReview", "selfsubjectaccessreviews", "authorization.k8s.io", "v1", namespaced=False
)

ALL: tuple[Resource, ...] = (
    NAMESPACES,
    NODES,
    PODS,
    SERVICES,
    CONFIGMAPS,
    SECRETS,
    PVCS,
    PVS,
    DEPLOYMENTS,
    STATEFULSETS,
    DAEMONSETS,
    JOBS,
    CRONJOBS,
    NETWORKPOLICIES,
    STORAGECLASSES,
    PROMETHEUSRULES,
    SERVICEMONITORS,
    PROMETHEUSES,
    ALERTMANAGERS,
    ALERTMANAGERCONFIGS,
    SELF_SUBJECT_ACCESS_REVIEWS,
    CLUSTERROLES,
)
WORKLOADS: dict[str, Resource] = {r.kind: r for r in (DEPLOYMENTS, STATEFULSETS, DAEMONSETS)}


def by_kind(kind: str) -> Resource:
    """The resource of a ``kind`` (``Deployment``); ``KeyError`` naming it when the suite does not know it."""
    for resource in ALL:
        if resource.kind == kind:
            return resource
    raise KeyError(f"unknown resource kind {kind!r}")
