"""control-plane-down and kubelets-down on the simulated cluster: what each component does when it stops, and the
node lifecycle controller with no node Ready."""

from __future__ import annotations

import pytest

from conformance.model.scenario import Scenario, Target
from conformance.sim import SimulatedCluster, matching
from conformance.sim.examples import example_environment
from conformance.sim.state import NODE_MONITOR_GRACE_S
from conformance.sim.types import SeriesKey


def down(component: str) -> Scenario:
    return Scenario(id="down", fault="control-plane-down", target=Target(component=component))


def ups(stored: dict[SeriesKey, float], job: str, **labels: str) -> list[float]:
    return list(matching(stored, "up", job=job, **labels).values())


@pytest.fixture
def cluster() -> SimulatedCluster:
    sim = SimulatedCluster(example_environment())
    sim.advance_to(100.0)
    return sim


def test_a_stopped_scheduler_leaves_discovery_and_comes_back(cluster: SimulatedCluster) -> None:
    """kubeadm's scheduler is a static pod: with the manifest gone the kubelet stops the pod and deletes its mirror
    pod, the controller manager's endpoint controllers drop it from the chart's Service (selector ``component:
    kube-scheduler``), and the target leaves Prometheus's discovery: ``up`` is absent, not 0."""
    assert ups(cluster.stored_samples(), "kube-scheduler") == [1.0]
    handle = cluster.apply_fault(down("kube-scheduler"), None)
    cluster.advance_to(130.0)
    stored = cluster.stored_samples()
    assert ups(stored, "kube-scheduler") == []
    assert not any(t.job == "kube-scheduler" for t in cluster.targets())
    assert ups(stored, "apiserver") == ups(stored, "kube-controller-manager") == [1.0]  # the others go on
    cluster.revert_fault(handle)
    cluster.advance_to(160.0)
    assert ups(cluster.stored_samples(), "kube-scheduler") == [1.0]


def test_a_stopped_controller_manager_stays_discovered_and_keeps_a_stopped_scheduler_there(
    cluster: SimulatedCluster,
) -> None:
    """The endpoint and EndpointSlice controllers run in kube-controller-manager: with every instance stopped
    nobody removes its own mirror pod's address from its Service, so its target stays with up 0, and a scheduler
    stopped meanwhile stays discovered too."""
    manager = cluster.apply_fault(down("kube-controller-manager"), None)
    cluster.advance_to(130.0)
    assert ups(cluster.stored_samples(), "kube-controller-manager") == [0.0]
    scheduler = cluster.apply_fault(down("kube-scheduler"), None)
    cluster.advance_to(160.0)
    assert ups(cluster.stored_samples(), "kube-scheduler") == [0.0]
    cluster.revert_fault(manager)  # the controller manager back: the stopped scheduler's endpoint goes
    cluster.advance_to(190.0)
    stored = cluster.stored_samples()
    assert ups(stored, "kube-controller-manager") == [1.0] and ups(stored, "kube-scheduler") == []
    cluster.revert_fault(scheduler)


def test_a_stopped_api_server_stays_discovered_with_up_zero(cluster: SimulatedCluster) -> None:
    """Prometheus discovers through the API server: its Kubernetes discovery keeps the last target set while the
    API is unreachable (client-go's reflector retries, its store unchanged), so the API server's own target
    stays, not answering."""
    handle = cluster.apply_fault(down("kube-apiserver"), None)
    cluster.advance_to(130.0)
    stored = cluster.stored_samples()
    assert ups(stored, "apiserver") == [0.0]
    assert not matching(stored, "apiserver_request_total")
    assert ups(stored, "kube-scheduler") == [1.0]
    cluster.revert_fault(handle)
    cluster.advance_to(160.0)
    assert ups(cluster.stored_samples(), "apiserver") == [1.0]


def test_a_component_cannot_be_stopped_twice(cluster: SimulatedCluster) -> None:
    cluster.apply_fault(down("kube-scheduler"), None)
    with pytest.raises(ValueError, match="already stopped"):
        cluster.apply_fault(down("kube-scheduler"), None)


def test_every_kubelet_down_keeps_the_targets_and_evicts_nothing(cluster: SimulatedCluster) -> None:
    """Every kubelet stops: its three targets stay discovered (the Node objects and the kubelet Service's
    endpoints remain) with up 0; every node Ready=Unknown after the 40 s grace with the NoSchedule unreachable
    taint; no node Ready puts the node lifecycle controller in master disruption mode (handleDisruption:
    markNodeAsReachable on every node, evictions stopped), so no NoExecute taint and no pod marked for deletion,
    however long it holds."""
    nodes = sorted(cluster.nodes)
    pods_before = {p.name for p in cluster.pods}
    handle = cluster.apply_fault(Scenario(id="k", fault="kubelets-down", target=Target()), None)
    cluster.advance_to(101.0)
    stored = cluster.stored_samples()
    kubelet_up = matching(stored, "up", job="kubelet")
    assert len(kubelet_up) == 3 * len(nodes) and set(kubelet_up.values()) == {0.0}
    cluster.advance_to(100.0 + NODE_MONITOR_GRACE_S + 900.0)
    stored = cluster.stored_samples()
    for node in nodes:
        ready = matching(stored, "kube_node_status_condition", node=node, condition="Ready", status="unknown")
        assert list(ready.values()) == [1.0]
        taints = {(dict(k)["key"], dict(k)["effect"]) for k in matching(stored, "kube_node_spec_taint", node=node)}
        assert ("node.kubernetes.io/unreachable", "NoSchedule") in taints
        assert ("node.kubernetes.io/unreachable", "NoExecute") not in taints
    assert not matching(stored, "kube_pod_deletion_timestamp")
    assert {p.name for p in cluster.pods} == pods_before
    cluster.revert_fault(handle)
    cluster.advance_to(cluster.now + 30.0)
    stored = cluster.stored_samples()
    assert set(matching(stored, "up", job="kubelet").values()) == {1.0}
    assert set(matching(stored, "kube_node_status_condition", condition="Ready", status="true").values()) == {1.0}


def test_kubelets_down_refuses_a_cluster_with_a_node_already_down(cluster: SimulatedCluster) -> None:
    node = sorted(cluster.nodes)[-1]
    cluster.apply_fault(Scenario(id="n", fault="node-not-ready", target=Target(node=node)), None)
    with pytest.raises(ValueError, match="already not ready"):
        cluster.apply_fault(Scenario(id="k", fault="kubelets-down", target=Target()), None)
