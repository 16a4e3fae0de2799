"""The twin's isolation groups: runs that act on one object never share a lane (no processes started here)."""

from __future__ import annotations

from dataclasses import replace

from test_observe_engine import world

from conformance.model.scenario import Scenario, Target
from conformance.twin.backend import TwinBackend


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
