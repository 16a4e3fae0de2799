"""Where the profile's world lands in a real cluster: namespaces, nodes and workloads, per backend.

On kind the profile's namespaces are created as named and its nodes map onto a kind cluster laid out from the
profile (:mod:`conformance.kube.layout`): one worker of its own per declared node a node fault targets, one
worker for the stand-ins, one reserved for the monitoring stack. On an existing cluster the suite
puts stand-ins only into namespaces it creates (``alert-conformance-<namespace>``), except for namespaces the
user allowed with ``--allow-namespace``, where faults act on the real workloads already there; ``kube-system``
is never used, even when allowed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal

from conformance.kube.layout import KindLayout
from conformance.model.scenario import FAULT_KINDS, Scenario
from conformance.model.workloads import (
    AutoscalerSpec,
    DisruptionBudgetSpec,
    Environment,
    JobSpec,
    NodeSpec,
    QuotaSpec,
    VolumeClaimSpec,
    WorkloadSpec,
)

PROTECTED_NAMESPACES = frozenset({"kube-system"})
SUITE_NAMESPACE_PREFIX = "alert-conformance-"

BackendName = Literal["kind", "cluster"]


@dataclass(frozen=True)
class ResolvedTarget:
    """A scenario's target in cluster terms. ``standin`` is True when the suite deployed the workload itself."""

    namespace: str | None = None
    workload: WorkloadSpec | None = None
    container: str | None = None
    node: str | None = None
    node_spec: NodeSpec | None = None
    claim: VolumeClaimSpec | None = None
    job: JobSpec | None = None
    standin: bool = True
    #: a namespace the suite manages, for objects a node fault creates (a stress pod)
    work_namespace: str | None = None
    quota: QuotaSpec | None = None
    #: the autoscaler and the disruption budget over the target workload, where the profile declares them
    autoscaler: AutoscalerSpec | None = None
    budget: DisruptionBudgetSpec | None = None
    #: a control-plane component (control-plane-down), on ``node``: the control-plane node (kind; None elsewhere)
    component: str | None = None
    #: the fault acts on every node of the cluster (kubelets-down)
    every_node: bool = False

    @property
    def workload_name(self) -> str:
        if self.workload is None:
            raise ValueError("this target has no workload")
        return self.workload.name

    @property
    def workload_kind(self) -> str:
        if self.workload is None:
            raise ValueError("this target has no workload")
        return self.workload.kind

    def describe(self) -> str:
        if self.component is not None:
            return f"{self.component} on " + (f"node {self.node}" if self.node else "the control-plane nodes")
        if self.every_node:
            return "every node"
        if self.node is not None and self.workload is None:
            return f"node {self.node}"
        if self.claim is not None:
            return f"pvc {self.namespace}/{self.claim.name}"
        if self.quota is not None:
            return f"resourcequota {self.namespace}/{self.quota.name}"
        if self.job is not None:
            return f"job {self.namespace}/{self.job.name}"
        if self.workload is not None:
            text = f"{self.workload.kind.lower()} {self.namespace}/{self.workload.name}"
            return text + (f" container {self.container}" if self.container else "")
        return "nothing"


@dataclass(frozen=True)
class Placement:
    """The mapping of profile names to cluster names for one backend."""

    backend: BackendName
    namespaces: dict[str, str]
    nodes: dict[str, str]
    environment: Environment
    standin_namespaces: frozenset[str] = field(default_factory=frozenset)
    #: kind only: the cluster's nodes and their parts
    layout: KindLayout | None = None

    @classmethod
    def for_kind(
        cls,
        environment: Environment,
        cluster_name: str,
        fault_nodes: Collection[str] = (),
        components: Collection[str] = (),
    ) -> Placement:
        """``fault_nodes``: the declared nodes with a kind worker of their own; ``components``: the control-plane
        components bound for scraping (:mod:`conformance.kube.layout`)."""
        namespaces = {ns: ns for ns in environment.namespaces}
        layout = KindLayout.for_environment(environment, cluster_name, fault_nodes, components)
        return cls("kind", namespaces, layout.mapping, environment, frozenset(namespaces.values()), layout)

    @classmethod
    def for_cluster(
        cls,
        environment: Environment,
        allowed_namespaces: tuple[str, ...],
        cluster_nodes: list[str] | None = None,
        control_plane_nodes: list[str] | None = None,
    ) -> Placement:
        """``cluster_nodes`` are the real worker names (sorted); None when planning without a cluster."""
        namespaces: dict[str, str] = {}
        standins: set[str] = set()
        for ns in environment.namespaces:
            if ns in allowed_namespaces and ns not in PROTECTED_NAMESPACES:
                namespaces[ns] = ns
            else:
                namespaces[ns] = suite_namespace(ns)
                standins.add(namespaces[ns])
        nodes: dict[str, str] = {}
        workers = [n for n in environment.nodes if n.role == "worker"]
        planes = [n for n in environment.nodes if n.role == "control-plane"]
        for index, node in enumerate(workers):
            nodes[node.name] = (
                cluster_nodes[index % len(cluster_nodes)] if cluster_nodes else f"<worker node #{index + 1}>"
            )
        for index, node in enumerate(planes):
            nodes[node.name] = (
                control_plane_nodes[index % len(control_plane_nodes)]
                if control_plane_nodes
                else f"<control-plane node #{index + 1}>"
            )
        return cls("cluster", namespaces, nodes, environment, frozenset(standins))

    def namespace(self, profile_namespace: str) -> str:
        return self.namespaces.get(profile_namespace, profile_namespace)

    def resolve(self, scenario: Scenario) -> ResolvedTarget:
        """The scenario's target in cluster names (the profile loader already checked it exists)."""
        target, env = scenario.target, self.environment
        namespace = self.namespace(target.namespace) if target.namespace else None
        standin = namespace is None or namespace in self.standin_namespaces
        workload = env.workload(target.namespace, target.workload) if target.namespace and target.workload else None
        claim = next(
            (c for c in env.volume_claims if (c.namespace, c.name) == (target.namespace, target.volume_claim)), None
        )
        job = next((j for j in env.jobs if (j.namespace, j.name) == (target.namespace, target.job)), None)
        node_spec = next((n for n in env.nodes if n.name == target.node), None)
        quota = next((q for q in env.quotas if (q.namespace, q.name) == (target.namespace, target.quota)), None)
        owner = (target.namespace or "", target.workload or "")
        node = self.nodes.get(target.node) if target.node else None
        if target.component and self.layout is not None:
            node = self.layout.node("control-plane")
        return ResolvedTarget(
            namespace=namespace,
            workload=workload,
            container=target.container,
            node=node,
            node_spec=node_spec,
            claim=claim,
            job=job,
            standin=standin,
            work_namespace=min(self.standin_namespaces) if self.standin_namespaces else None,
            quota=quota,
            autoscaler=env.autoscaler_of(*owner),
            budget=env.budget_of(*owner),
            component=target.component,
            every_node=FAULT_KINDS[scenario.fault].target == "cluster",
        )


def suite_namespace(profile_namespace: str) -> str:
    """The namespace the suite creates on an existing cluster for a profile namespace (max 63 characters)."""
    return (SUITE_NAMESPACE_PREFIX + profile_namespace)[:63].rstrip("-")
