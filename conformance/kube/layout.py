"""The kind cluster of ``--backend kind``, laid out from the profile: which kind node plays which declared node.

kind names its nodes ``<cluster>-control-plane``, then ``<cluster>-worker``, ``<cluster>-worker2``, ... in the
order of the config, so the layout fixes that order and labels each worker with its part
(:data:`ROLE_LABEL`):

* ``<cluster>-worker``, ``workloads``: every stand-in Deployment, StatefulSet and Job (and the local volumes);
  the declared workers no node fault targets all map here;
* ``<cluster>-worker2``, ``monitoring``: reserved for Prometheus, Alertmanager, the operator, kube-state-metrics
  and the capture webhook; no declared node maps here, so no fault ever targets it;
* ``<cluster>-worker3`` onwards, ``node-faults``: one per declared worker a node fault targets (cordon, a stopped
  kubelet), in declaration order. Nothing of the suite's is scheduled there but the DaemonSets every node runs
  (kindnet, kube-proxy, node-exporter), so stopping one's kubelet takes nothing else down with it.

DaemonSet stand-ins run on the workloads and the monitoring worker: two nodes, so a rollout that replaces one pod
leaves ``updated < desired`` as on a real cluster, and never on a node a fault stops.

Declared control-plane nodes map to ``<cluster>-control-plane``. Declared node labels are not copied: the kubelet
refuses ``node-role.kubernetes.io/*`` labels at registration, and no stand-in selects nodes by them.

kubeadm binds the scheduler and the controller manager to the node's loopback, where Prometheus cannot scrape them.
When a scenario takes one down (control-plane-down) the layout has kubeadm bind it to 0.0.0.0 (a
``kubeadmConfigPatches`` entry for each kubeadm config version kind may generate, v1beta3 and v1beta4; kind applies
the one whose apiVersion matches) and the stack enables the chart's ServiceMonitor for it
(:func:`conformance.kube.stack.stack_values`). A reused cluster is not checked for it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from conformance.errors import BackendError
from conformance.model.workloads import Environment
from conformance.yamlio import dump

ROLE_LABEL = "alert-conformance/role"
#: The kubeadm ClusterConfiguration field of each control-plane component that can be bound for scraping.
BOUND_FIELDS = {"kube-controller-manager": "controllerManager", "kube-scheduler": "scheduler"}
Part = Literal["control-plane", "workloads", "monitoring", "node-faults"]
CONFIG_NAME = "kind-cluster.yaml"


@dataclass(frozen=True)
class KindNode:
    """One kind node: its name, its part, and the declared nodes it plays."""

    name: str
    part: Part
    declared: tuple[str, ...] = ()

    @property
    def role(self) -> Literal["control-plane", "worker"]:
        return "control-plane" if self.part == "control-plane" else "worker"


@dataclass(frozen=True)
class KindLayout:
    """Every node of the kind cluster, in the order kind names them."""

    cluster_name: str
    nodes: tuple[KindNode, ...]
    #: The control-plane components bound to 0.0.0.0 for Prometheus to scrape (kube-scheduler, ...).
    components: tuple[str, ...] = ()

    @classmethod
    def for_environment(
        cls, environment: Environment, cluster_name: str, fault_nodes: Collection[str], components: Collection[str] = ()
    ) -> KindLayout:
        """``fault_nodes``: the declared nodes a node fault that runs on kind targets (each gets its own worker);
        ``components``: the control-plane components a fault that runs on kind takes down."""
        workers = [n.name for n in environment.nodes if n.role == "worker"]
        planes = tuple(n.name for n in environment.nodes if n.role == "control-plane")
        dedicated = [name for name in workers if name in fault_nodes]
        shared = tuple(name for name in workers if name not in fault_nodes)
        nodes = [
            KindNode(f"{cluster_name}-control-plane", "control-plane", planes),
            KindNode(worker_name(cluster_name, 1), "workloads", shared),
            KindNode(worker_name(cluster_name, 2), "monitoring"),
        ]
        nodes += [
            KindNode(worker_name(cluster_name, 3 + i), "node-faults", (name,)) for i, name in enumerate(dedicated)
        ]
        return cls(cluster_name, tuple(nodes), tuple(sorted(set(components) & set(BOUND_FIELDS))))

    def node(self, part: Part) -> str:
        """The first node of ``part`` (workloads, monitoring and control-plane have exactly one)."""
        return next(n.name for n in self.nodes if n.part == part)

    @property
    def mapping(self) -> dict[str, str]:
        """Declared node name -> kind node name."""
        return {declared: node.name for node in self.nodes for declared in node.declared}

    @property
    def workers(self) -> int:
        return sum(1 for n in self.nodes if n.role == "worker")

    def config(self) -> dict[str, Any]:
        """The kind ``Cluster`` config: the nodes in order, each worker labelled with its part."""
        nodes: list[dict[str, Any]] = []
        for node in self.nodes:
            entry: dict[str, Any] = {"role": node.role}
            if node.role == "worker":
                entry["labels"] = {ROLE_LABEL: node.part}
            nodes.append(entry)
        config: dict[str, Any] = {"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "nodes": nodes}
        if self.components:
            config["kubeadmConfigPatches"] = [dump(patch) for patch in self._bind_patches()]
        return config

    def _bind_patches(self) -> list[dict[str, Any]]:
        """kubeadm ClusterConfiguration patches binding the scraped components to 0.0.0.0, in both forms."""
        fields = [BOUND_FIELDS[component] for component in self.components]
        v1beta3 = {field: {"extraArgs": {"bind-address": "0.0.0.0"}} for field in fields}
        v1beta4 = {field: {"extraArgs": [{"name": "bind-address", "value": "0.0.0.0"}]} for field in fields}
        return [
            {"apiVersion": "kubeadm.k8s.io/v1beta3", "kind": "ClusterConfiguration", **v1beta3},
            {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration", **v1beta4},
        ]

    def write_config(self, folder: Path) -> Path:
        """Write :meth:`config` as ``kind-cluster.yaml`` into ``folder`` (the run's work folder)."""
        path = folder / CONFIG_NAME
        header = f"# kind cluster {self.cluster_name}, laid out by alert-conformance from the profile\n"
        path.write_text(header + dump(self.config()), encoding="utf-8")
        return path

    def check(self, nodes: Sequence[Mapping[str, Any]]) -> None:
        """Refuse a reused cluster that was not created with this layout (nodes missing or not labelled as
        their part): a fault would aim at a node that is not there, or the stack would never be scheduled."""
        labels = {n["metadata"]["name"]: (n["metadata"].get("labels") or {}) for n in nodes}
        wrong = [
            node.name
            for node in self.nodes
            if node.name not in labels or (node.role == "worker" and labels[node.name].get(ROLE_LABEL) != node.part)
        ]
        if wrong:
            raise BackendError(
                f"kind cluster {self.cluster_name} was not created with this profile's layout (missing or "
                f"relabelled: {', '.join(wrong)}); delete it with `kind delete cluster --name {self.cluster_name}` "
                "or choose another --cluster-name"
            )

    def describe(self) -> list[str]:
        """One line per kind node, in kind's order: the declared nodes it plays -> its name (part): its use."""
        use: dict[Part, str] = {
            "control-plane": "the API server",
            "workloads": "stand-in Deployments, StatefulSets, Jobs and volumes",
            "monitoring": "reserved for Prometheus, Alertmanager, the operator, kube-state-metrics and the "
            "capture webhook; no fault targets it",
            "node-faults": "a worker of its own for node faults",
        }
        return [
            f"{', '.join(node.declared) or '(no declared node)'} -> {node.name} ({node.part}): {use[node.part]}"
            for node in self.nodes
        ]


def worker_name(cluster_name: str, index: int) -> str:
    """kind's name for the ``index``-th worker (1-based): ``<cluster>-worker``, ``<cluster>-worker2``, ..."""
    return f"{cluster_name}-worker" if index == 1 else f"{cluster_name}-worker{index}"


def pod_placement(part: Literal["workloads", "daemonset", "monitoring"]) -> dict[str, Any]:
    """The pod-spec fields that keep a pod of the suite on its kind worker(s)."""
    if part == "daemonset":
        term = {"matchExpressions": [{"key": ROLE_LABEL, "operator": "In", "values": ["workloads", "monitoring"]}]}
        return {
            "affinity": {
                "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}
            }
        }
    return {"nodeSelector": {ROLE_LABEL: part}}
