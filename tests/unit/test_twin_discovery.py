"""The twin's scrape groups whose targets can leave discovery: read from files Prometheus watches, and the
allowance live runs get for Prometheus's discovery timers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from conformance.observe.expectations import DISCOVERY_WALL_S, Expectation, ReceiverExpectation
from conformance.twin.promconfig import discovery_entries, group_key, prometheus_config


@dataclass(frozen=True)
class Target:
    id: str
    job: str
    labels: dict[str, str] = field(default_factory=dict)
    metrics_path: str = "/metrics"
    honor_labels: bool = False
    metric_drop: str = ""


SCHEDULER = Target("control-plane-kube-scheduler-cp", "kube-scheduler", {"instance": "172.18.0.2:10259"})
API = Target("control-plane-apiserver-cp", "apiserver", {"instance": "172.18.0.2:6443"})


def test_a_group_that_can_leave_discovery_reads_a_file_the_others_stay_static(tmp_path: Path) -> None:
    files = {group_key(SCHEDULER): tmp_path / "0.json"}
    config = prometheus_config(
        [SCHEDULER, API], "127.0.0.1:1", [], [], scrape_s=1.5, evaluation_s=3.0, discovery_files=files
    )
    jobs = {c["job_name"]: c for c in config["scrape_configs"]}
    assert jobs["kube-scheduler"]["file_sd_configs"] == [
        {"files": [str(tmp_path / "0.json")], "refresh_interval": "5s"}
    ]
    assert "static_configs" not in jobs["kube-scheduler"]
    assert jobs["apiserver"]["static_configs"][0]["labels"]["job"] == "apiserver"


def test_a_discovery_file_empties_when_every_target_of_its_group_has_left() -> None:
    key = group_key(SCHEDULER)
    present = discovery_entries([SCHEDULER, API], "127.0.0.1:1", [key])[key]
    assert present == [
        {
            "targets": ["127.0.0.1:1"],
            "labels": {
                "job": "kube-scheduler",
                "instance": "172.18.0.2:10259",
                "__metrics_path__": "/t/control-plane-kube-scheduler-cp",
            },
        }
    ]
    assert discovery_entries([API], "127.0.0.1:1", [key]) == {key: []}


def test_discovery_timers_widen_the_firing_and_the_resolution_in_wall_seconds() -> None:
    receiver = ReceiverExpectation("chart/hook", True, 30.0, 300.0)
    plain = Expectation("r", 20.0, 45.0, 1.5, 3.0, (receiver,), 60.0, 3.0)
    rediscovered = Expectation("r", 20.0, 45.0, 1.5, 3.0, (receiver,), 60.0, 3.0, discovery_s=DISCOVERY_WALL_S)
    assert rediscovered.budget_s(receiver, False) - plain.budget_s(receiver, False) == DISCOVERY_WALL_S
    assert rediscovered.resolve_by_s(receiver, 60.0) - plain.resolve_by_s(receiver, 60.0) == DISCOVERY_WALL_S


def test_only_a_fault_that_takes_targets_out_of_discovery_gets_the_allowance() -> None:
    from dataclasses import replace

    from test_observe_engine import world

    from conformance.model.scenario import Scenario
    from conformance.model.scenario import Target as ScenarioTarget
    from conformance.observe.expectations import expectation_for

    profile, pack, [run] = world(["A"])

    def allowance(component: str) -> float:
        scenario = Scenario("s", "control-plane-down", ScenarioTarget(component=component))
        return expectation_for(replace(run, scenario=scenario), profile, pack, 20.0).discovery_s

    assert allowance("kube-scheduler") == DISCOVERY_WALL_S
    assert allowance("kube-apiserver") == allowance("kube-controller-manager") == 0.0  # they stay discovered: up 0
    assert expectation_for(run, profile, pack, 20.0).discovery_s == 0.0
