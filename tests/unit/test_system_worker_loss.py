"""Seed 004's system worker lost, in the simulated cluster: the Run:ai components on it come back on the other
system worker once evicted, the scaled ones keep a pod throughout, and depth 3 accepts an alert that resolves on its
own when they are back (the fault's own mechanics healing, not a flap)."""

from __future__ import annotations

from conformance.model.scenario import Scenario, Target
from conformance.profiles import load_profile
from conformance.sim.cluster import SimulatedCluster
from conformance.sim.state import EVICTION_TOLERATION_S, NODE_MONITOR_GRACE_S
from conformance.static.cases import heals_after_s

LOST = Scenario("system-worker-lost", "node-not-ready", Target(node="system-worker-1"))


def _runai(cluster: SimulatedCluster, t: float) -> dict[str, list[tuple[str | None, bool]]]:
    """Each runai Deployment's pods at ``t``: (node, ready)."""
    pods: dict[str, list[tuple[str | None, bool]]] = {}
    for pod in cluster.pods:
        if pod.namespace == "runai" and pod.workload is not None and pod.workload.kind == "Deployment":
            pods.setdefault(pod.workload.name, []).append((pod.node, cluster.pod_ready(pod, t)))
    return pods


def test_the_components_of_a_lost_system_worker_come_back_on_the_other_one() -> None:
    cluster = SimulatedCluster(load_profile("runai").environment)
    cluster.advance_to(600.0)
    before = _runai(cluster, 600.0)
    assert {node for pods in before.values() for node, _ in pods} == {"system-worker-1", "system-worker-2"}
    single = sorted(name for name, pods in before.items() if pods == [("system-worker-1", True)])
    assert single == ["cluster-sync", "metrics-exporter", "runai-agent", "workload-controller"]
    cluster.apply_fault(LOST, None)
    unknown = 600.0 + NODE_MONITOR_GRACE_S + 1
    cluster.advance_to(unknown)
    during = _runai(cluster, unknown)
    for name, pods in during.items():
        # a single replica on the lost worker has none available; every other keeps a pod on the other worker
        expected = [] if name in single else ["system-worker-2"]
        assert [node for node, is_ready in pods if is_ready] == expected, name
    back = unknown + EVICTION_TOLERATION_S + 10
    cluster.advance_to(back)
    after = _runai(cluster, back)
    for name in single:
        # the replacement runs on the other worker; the old pod stays Terminating on the unreachable node (its
        # kubelet cannot confirm the deletion), as the node lifecycle controller leaves it
        assert sorted(after[name]) == [("system-worker-1", False), ("system-worker-2", True)], name


def test_a_lost_node_heals_its_workloads_once_its_pods_are_evicted() -> None:
    assert heals_after_s(LOST) == NODE_MONITOR_GRACE_S + EVICTION_TOLERATION_S
    assert heals_after_s(Scenario("c", "cordon-node", Target(node="n"))) is None
