"""The twin's isolation groups: runs that act on one object never share a lane (no processes started here)."""

from __future__ import annotations

from dataclasses import replace

from test_observe_engine import world

from conformance.model.scenario import Scenario, Target
from conformance.twin.backend import TwinBackend, _discovered_jobs


def test_two_faults_on_one_workload_run_in_separate_lanes() -> None:
    profile, pack, runs = world(["A", "B", "C"])
    shared = Scenario("s", "crash-loop", Target(namespace="ns", workload="web", container="c"))
    first, second, other = runs
    runs = [replace(first, scenario=shared), replace(second, scenario=shared), other]
    lanes = TwinBackend(profile, pack, time_scale=20)._plan(runs)
    where = {run.alert.name: lane.name for lane in lanes for run in lane.runs}
    assert where["A"] != where["B"]  # both act on ns/web: the second fault would find the first applied
    assert where["C"] == where["A"] == "twin"  # a run on another object shares the main lane
    assert [lane.name for lane in lanes] == ["twin", "twin-2"]


def test_a_fault_on_a_container_and_one_on_its_workload_act_on_one_object() -> None:
    """A crash loop in web's container and web's replicas held unavailable both change web: separate lanes."""
    profile, pack, runs = world(["A", "B"])
    loop = Scenario("s", "crash-loop", Target(namespace="ns", workload="web", container="c"))
    unavailable = Scenario("s", "unavailable-replicas", Target(namespace="ns", workload="web"))
    first, second = runs
    lanes = TwinBackend(profile, pack, time_scale=20)._plan(
        [replace(first, scenario=loop), replace(second, scenario=unavailable)]
    )
    where = {run.alert.name: lane.name for lane in lanes for run in lane.runs}
    assert where["A"] != where["B"]


def test_every_kubelet_down_shares_a_lane_with_no_node_fault() -> None:
    """kubelets-down takes every node: a node fault beside it would find its node already down."""
    profile, pack, runs = world(["A", "B", "C"])
    node = profile.environment.nodes[0].name
    first, second, other = runs
    lanes = TwinBackend(profile, pack, time_scale=20)._plan(
        [
            replace(first, scenario=Scenario("k", "kubelets-down", Target())),
            replace(second, scenario=Scenario("n", "node-not-ready", Target(node=node))),
            other,
        ]
    )
    where = {run.alert.name: lane.name for lane in lanes for run in lane.runs}
    assert where["A"] != where["B"] and "nodes" in where["A"] and "nodes" in where["B"]
    assert where["C"] == "twin"


def test_only_a_component_that_leaves_discovery_is_read_from_a_discovery_file() -> None:
    _profile, _pack, runs = world(["A", "B", "C"])
    first, second, third = runs
    scheduler = replace(first, scenario=Scenario("s", "control-plane-down", Target(component="kube-scheduler")))
    api = replace(second, scenario=Scenario("a", "control-plane-down", Target(component="kube-apiserver")))
    manager = replace(third, scenario=Scenario("m", "control-plane-down", Target(component="kube-controller-manager")))
    assert _discovered_jobs([scheduler, api, manager]) == frozenset({"kube-scheduler"})


def test_two_components_down_never_share_a_lane() -> None:
    """A stopped controller manager keeps a stopped scheduler's endpoint: together they would change each other."""
    profile, pack, runs = world(["A", "B"])
    first, second = runs
    lanes = TwinBackend(profile, pack, time_scale=20)._plan(
        [
            replace(first, scenario=Scenario("s", "control-plane-down", Target(component="kube-scheduler"))),
            replace(second, scenario=Scenario("m", "control-plane-down", Target(component="kube-controller-manager"))),
        ]
    )
    assert len(lanes) == 2


def test_two_faults_on_kube_state_metrics_cluster_role_never_share_a_lane() -> None:
    """Target-less, yet one object each: kube-state-metrics' ClusterRole (as kind puts them in separate waves)."""
    profile, pack, runs = world(["A", "B", "C"])
    first, second, other = runs
    lanes = TwinBackend(profile, pack, time_scale=20)._plan(
        [
            replace(first, scenario=Scenario("l", "ksm-list-errors", Target(), params={"resource": "leases"})),
            replace(second, scenario=Scenario("w", "ksm-list-errors", Target(), params={"denied": "watch"})),
            other,
        ]
    )
    where = {run.alert.name: lane.name for lane in lanes for run in lane.runs}
    assert where["A"] != where["B"]
    assert where["C"] == where["A"] == "twin"
