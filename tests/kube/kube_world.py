"""A small world in the fake API server, and a fault context pointed at it, for the fault and backend tests.

Imported by ``conftest.py`` (fixtures) and by the tests (constants, :class:`World`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conformance_plugins.control_plane_down import HEALTH_URLS
from conformance_plugins.registry import FaultRegistry

import conformance.testing.objects as ko
from conformance.kube import resources as r
from conformance.kube.backend import KubeBackend
from conformance.kube.client import KubeClient
from conformance.kube.exec import ExecCall, ExecResult
from conformance.kube.faults import FaultContext, Timeouts
from conformance.kube.layout import worker_name
from conformance.kube.placement import Placement
from conformance.kube.resources import Resource
from conformance.model.profile import Profile
from conformance.model.workloads import (
    AutoscalerSpec,
    ContainerSpec,
    DisruptionBudgetSpec,
    Environment,
    JobSpec,
    NodeSpec,
    QuotaSpec,
    ScrapeSpec,
    VendorMetricSpec,
    VolumeClaimSpec,
    WorkloadSpec,
)
from conformance.options import Options
from conformance.packs.model import Pack
from conformance.testing.doubles import FakeExecutor
from conformance.testing.fake_api import FakeKubeApi

CLUSTER = "ac"
NS = "demo"
RUN_ID = "r-test"
#: the kind workers the world's two declared nodes get (node faults target both: a worker each, after the
#: workloads worker ac-worker and the monitoring worker ac-worker2)
NODE_A = f"{CLUSTER}-worker3"
NODE_B = f"{CLUSTER}-worker4"
#: workers in the fake cluster: enough for the world's layout and for the runai profile's (three node-fault workers)
KIND_WORKERS = 5

ENVIRONMENT = Environment(
    nodes=(NodeSpec("node-a"), NodeSpec("node-b"), NodeSpec("cp", role="control-plane")),
    namespaces=(NS,),
    workloads=(
        WorkloadSpec(
            "Deployment",
            "api",
            NS,
            (ContainerSpec("app", memory_limit_bytes=512 * 2**20, cpu_limit_cores=1.0),),
            replicas=3,
            scrape=ScrapeSpec("api", port=8080),
            vendor_metrics=(VendorMetricSpec("pushes_total", rate_per_second=5.0),),
            volume_claims=("data",),
        ),
        WorkloadSpec("StatefulSet", "db", NS, (ContainerSpec("db"),), replicas=3),
        WorkloadSpec("DaemonSet", "agent", NS, (ContainerSpec("agent", cpu_limit_cores=None),)),
    ),
    volume_claims=(VolumeClaimSpec("data", NS, mounted_by="api"),),
    jobs=(JobSpec("nightly", NS, cronjob="nightly"),),
    autoscalers=(AutoscalerSpec("api", NS, "api", min_replicas=2, max_replicas=6),),
    quotas=(QuotaSpec("team", NS, {"requests.memory": 4 * 2**30, "requests.cpu": 4.0}),),
    disruption_budgets=(DisruptionBudgetSpec("db", NS, "db", max_unavailable=1),),
)


def make_ready(api: FakeKubeApi, event: str, resource: Resource, obj: dict[str, Any]) -> None:
    """A stand-in controller: a patched workload is rolled out and ready at once."""
    if event == "patch" and resource in (r.DEPLOYMENTS, r.STATEFULSETS, r.DAEMONSETS):
        status = obj.setdefault("status", {})
        status["observedGeneration"] = obj["metadata"]["generation"]
        if resource is r.DAEMONSETS:
            status["updatedNumberScheduled"] = status.get("desiredNumberScheduled", 0)
        else:
            status["updatedReplicas"] = obj["spec"].get("replicas", 1)


def pv_controller(api: FakeKubeApi, event: str, resource: Resource, obj: dict[str, Any]) -> None:
    """A stand-in PV controller: a claim naming its volume binds at once; deleting a bound claim releases the
    volume, whose hostPath the deleter refuses (outside /tmp): the PV turns Failed."""
    if resource is not r.PVCS or not obj.get("spec", {}).get("volumeName"):
        return
    volume = obj["spec"]["volumeName"]
    if event == "create":
        obj["status"] = {"phase": "Bound"}
        api.update(r.PVS, volume, None, lambda pv: pv.__setitem__("status", {"phase": "Bound"}))
    elif event == "delete" and api.get(r.PVS, volume) is not None:
        path = api.get(r.PVS, volume)["spec"]["hostPath"]["path"]  # type: ignore[index]
        phase = "Released" if path.startswith("/tmp/") else "Failed"
        api.update(r.PVS, volume, None, lambda pv: pv.__setitem__("status", {"phase": phase}))


#: The chart's ClusterRole for kube-state-metrics, three of its collectors' rules.
KSM_ROLE = ko.cluster_role(
    "alert-conformance-kube-state-metrics",
    {"app.kubernetes.io/name": "kube-state-metrics"},
    [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list", "watch"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["list", "watch"]},
        {"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["list", "watch"]},
    ],
)


def ready_on_create(api: FakeKubeApi, event: str, resource: Resource, obj: dict[str, Any]) -> None:
    """A stand-in controller: a created or patched workload is at once fully available (one pod per DaemonSet)."""
    if event in ("create", "patch") and resource in (r.DEPLOYMENTS, r.STATEFULSETS, r.DAEMONSETS):
        replicas = obj["spec"].get("replicas", 1)
        obj["status"] = {
            "observedGeneration": obj["metadata"]["generation"],
            "availableReplicas": replicas,
            "updatedReplicas": replicas,
            "desiredNumberScheduled": 1,
            "numberAvailable": 1,
            "updatedNumberScheduled": 1,
        }


def cluster_backend(api: FakeKubeApi, tmp_path: Path, runai: tuple[Profile, Pack], **options: Any) -> KubeBackend:
    """A ``--backend cluster`` run of the runai profile against the fake API, with fast deadlines."""
    profile, pack = runai
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    opts = Options(profile="runai", backend="cluster", kubeconfig=kubeconfig, **options)
    return KubeBackend(
        opts,
        profile,
        pack,
        FaultRegistry(),
        timeouts=FAST,
        run_id=RUN_ID,
        workdir=tmp_path,
        executor_factory=lambda client: FakeExecutor(),
    )


@dataclass
class FakeNodeAgent:
    """Stops and starts kubelets by flipping the node's Ready condition in the fake API."""

    api: FakeKubeApi
    calls: list[tuple[str, str]] = field(default_factory=list)

    def _set(self, node: str, status: str) -> None:
        def change(obj: dict[str, Any]) -> None:
            obj["status"]["conditions"] = [{"type": "Ready", "status": status}]

        self.api.update(r.NODES, node, None, change)

    def stop_kubelet(self, node: str, *, hold_s: float) -> None:
        self.calls.append(("stop", node))
        self._set(node, "Unknown")

    def start_kubelet(self, node: str) -> None:
        self.calls.append(("start", node))
        self._set(node, "True")

    #: (node, component) of every static pod manifest moved out of the kubelet's folder
    parked: set[tuple[str, str]] = field(default_factory=set)

    def move_static_manifest(self, node: str, component: str, *, away: bool) -> None:
        self.calls.append(("park" if away else "unpark", f"{node}/{component}"))
        if away:
            self.parked.add((node, component))
        else:
            self.parked.discard((node, component))

    def container_running(self, node: str, component: str) -> bool:
        return (node, component) not in self.parked

    def healthy(self, node: str, url: str) -> bool:
        self.calls.append(("health", f"{node} {url}"))
        component = next(name for name, health in HEALTH_URLS.items() if health == url)
        return (node, component) not in self.parked


def exec_answers(call: ExecCall) -> ExecResult:
    """What the containers answer: df of a 1 GiB volume 10% used, 100 MiB cgroup use, 8 GB node memory."""
    argv = call.argv
    if argv[0] == "df":
        return ExecResult(
            0, "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda 1048576 104858 943718 10% /data\n"
        )
    if argv[0] == "cat" and argv[1] == "/proc/meminfo":
        return ExecResult(0, "MemTotal:        8000000 kB\nMemFree: 1 kB\nMemAvailable:    6000000 kB\n")
    if "memory.current" in " ".join(argv):
        return ExecResult(0, f"{100 * 2**20}\n")
    return ExecResult(0, "")


@dataclass
class World:
    api: FakeKubeApi
    client: KubeClient
    ctx: FaultContext
    executor: FakeExecutor
    agent: FakeNodeAgent
    placement: Placement
    admin: list[tuple[str, str]]

    def snapshot(self) -> dict[tuple[str, str, str, str], Any]:
        """Every object's labels, annotations and spec (what a fault may change and must restore)."""
        return {
            key: (obj["metadata"].get("labels"), obj["metadata"].get("annotations"), obj.get("spec"))
            for key, obj in self.api.objects.items()
        }


def populate(api: FakeKubeApi) -> list[tuple[str, str]]:
    api.add(ko.namespace(NS))
    for index in range(1, KIND_WORKERS + 1):
        api.add(ko.node(worker_name(CLUSTER, index)))
    api.add(ko.node(f"{CLUSTER}-control-plane", control_plane=True))
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    api_containers = [ko.container("app", claim_mount=("data", "/data"), port=8080)]
    api.add(ko.workload("Deployment", "api", NS, containers=api_containers, volumes=volumes))
    api.add(ko.workload("StatefulSet", "db", NS, containers=[ko.container("db")]))
    api.add(ko.workload("DaemonSet", "agent", NS, replicas=2, containers=[ko.container("agent")]))
    api.add(ko.pvc("data", NS))
    api.add(ko.cronjob("nightly", NS))
    api.add(KSM_ROLE)
    api.add(ko.autoscaler("api", NS, "api", minimum=2, maximum=6))
    used = {"requests.memory": "1Gi", "requests.cpu": "900m"}
    api.add(ko.resource_quota("team", NS, {"requests.memory": "4Gi", "requests.cpu": "4"}, used))
    api.add(ko.disruption_budget("db", NS, {"app.kubernetes.io/name": "db"}, maxUnavailable=1))
    admin: list[tuple[str, str]] = []
    for index in range(3):
        name = f"api-{index}"
        api.add(ko.pod(name, NS, {"app.kubernetes.io/name": "api"}, containers=api_containers, volumes=volumes))

        def handler(method: str, path: str, body: bytes, pod: str = name) -> tuple[int, bytes]:
            admin.append((pod, f"{method} {path}"))
            return 200, b"ok"

        api.on_proxy("pods", NS, name, 8080, handler)
        api.add(ko.pod(f"db-{index}", NS, {"app.kubernetes.io/name": "db"}, containers=[ko.container("db")]))
    for index in range(2):
        api.add(ko.pod(f"agent-{index}", NS, {"app.kubernetes.io/name": "agent"}, containers=[ko.container("agent")]))
    return admin


FAST = Timeouts(rollout_s=0.5, node_s=0.5, delete_s=0.5, exec_s=2.0, poll_s=0.02)


@pytest.fixture
def world(fake_kube_api: FakeKubeApi, tmp_path: Path) -> Iterator[World]:
    admin = populate(fake_kube_api)
    fake_kube_api.reactors.append(make_ready)
    fake_kube_api.reactors.append(pv_controller)
    client = KubeClient.from_kubeconfig(fake_kube_api.write_kubeconfig(tmp_path / "kubeconfig"))
    client.request_timeout_s = 5.0
    executor = FakeExecutor(exec_answers)
    agent = FakeNodeAgent(fake_kube_api)
    ctx = FaultContext(client, executor, RUN_ID, "kind", node_agent=agent, timeouts=FAST)
    fake_kube_api.calls.clear()
    placement = Placement.for_kind(ENVIRONMENT, CLUSTER, fault_nodes=("node-a", "node-b"))
    yield World(fake_kube_api, client, ctx, executor, agent, placement, admin)
