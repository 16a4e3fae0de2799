"""Where the profile's world lands in a real cluster: namespaces, nodes and workloads, per backend.

On kind the profile's namespaces are created as named and its nodes map, by role and order, onto the kind nodes
(``<cluster>-control-plane``, ``<cluster>-worker``, ``<cluster>-worker2``). On an existing cluster the suite
puts stand-ins only into namespaces it creates (``alert-conformance-<namespace>``), except for namespaces the
user allowed with ``--allow-namespace``, where faults act on the real workloads already there; ``kube-system``
is never used, even when allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from conformance.model.scenario import Scenario
from conformance.model.workloads import Environment, JobSpec, NodeSpec, VolumeClaimSpec, WorkloadSpec

PROTECTED_NAMESPACES = frozenset({"kube-system"})
SUITE_NAMESPACE_PREFIX = "alert-conformance-"
KIND_WORKERS = 2

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
        if self.node is not None and self.workload is None:
            return f"node {self.node}"
        if self.claim is not None:
            return f"pvc {self.namespace}/{self.claim.name}"
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

    @classmethod
    def for_kind(cls, environment: Environment, cluster_name: str) -> Placement:
        namespaces = {ns: ns for ns in environment.namespaces}
        kind_workers = [f"{cluster_name}-worker"] + [f"{cluster_name}-worker{i}" for i in range(2, KIND_WORKERS + 1)]
        nodes: dict[str, str] = {}
        workers = [n for n in environment.nodes if n.role == "worker"]
        for index, node in enumerate(workers):
            # More profile workers than kind workers share them round-robin; the plan shows the mapping.
            nodes[node.name] = kind_workers[index % len(kind_workers)]
        for node in environment.nodes:
            if node.role == "control-plane":
                nodes[node.name] = f"{cluster_name}-control-plane"
        return cls("kind", namespaces, nodes, environment, frozenset(namespaces.values()))

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
        return ResolvedTarget(
            namespace=namespace,
            workload=workload,
            container=target.container,
            node=self.nodes.get(target.node) if target.node else None,
            node_spec=node_spec,
            claim=claim,
            job=job,
            standin=standin,
            work_namespace=min(self.standin_namespaces) if self.standin_namespaces else None,
        )


def suite_namespace(profile_namespace: str) -> str:
    """The namespace the suite creates on an existing cluster for a profile namespace (max 63 characters)."""
    return (SUITE_NAMESPACE_PREFIX + profile_namespace)[:63].rstrip("-")
