"""The hand-made profile over :class:`conformance.live.testing.ToyCluster` used by the live integration tests."""

from __future__ import annotations

from pathlib import Path

from conformance.backends.base import ScenarioRun
from conformance.live.testing import ToyCluster
from conformance.model.contract import AlertContract, DocumentedDuration, RoutingSetup, Source
from conformance.model.prediction import Prediction
from conformance.model.profile import Profile
from conformance.model.scenario import Scenario, Target
from conformance.model.workloads import Environment, NodeSpec
from conformance.packs.loader import load_pack
from conformance.packs.model import Pack

DATA = Path(__file__).parent / "data" / "live"
WORKLOADS = [("toy", "alpha"), ("toy", "beta"), ("toy", "gamma")]
SOURCE = Source("hand-made", "tests", "toy")


def toy_cluster(_environment: Environment) -> ToyCluster:
    return ToyCluster(WORKLOADS)


def _alert(name: str, severity: str, receivers: dict[str, str], fault: str, workload: str) -> AlertContract:
    scenario = Scenario(id=fault, fault=fault, target=Target(namespace="toy", workload=workload))
    return AlertContract(
        name=name, severity=severity, meaning=name, source=SOURCE, threshold=None,
        for_=DocumentedDuration(60.0, True), window=None, receivers=receivers, scenarios=(scenario,),
    )


def toy_profile(pack_dir: str = "pack") -> tuple[Profile, Pack]:
    """Three documented alerts routed in two Alertmanager set-ups (a plain file and a Secret)."""
    pack = load_pack(DATA / pack_dir)
    alerts = (
        _alert("ToyFaulty", "warning", {"main": "team-email", "secret": "everything"}, "error-rate", "alpha"),
        _alert("ToyDown", "critical", {"main": "pager", "secret": "everything"}, "target-down", "beta"),
        _alert("ToyAnyCritical", "page", {"main": "pager"}, "target-down", "beta"),
    )
    profile = Profile(
        name="toy", title="toy", path=DATA / "profile.yaml", seeds=(), pack_path=DATA / pack_dir,
        environment=Environment(nodes=(NodeSpec("node-1"),), namespaces=("toy",)),
        routing=(
            RoutingSetup("main", "file", "team-email", SOURCE),
            RoutingSetup("secret", "secret", "everything", SOURCE),
        ),
        alerts=alerts,
    )
    return profile, pack


def toy_runs(profile: Profile) -> list[ScenarioRun]:
    """Predictions as depth 3 would make them for the toy rules (fire after ``for`` + one scrape)."""
    fire = {"ToyFaulty": 75.0, "ToyDown": 45.0, "ToyAnyCritical": 60.0}
    labels = {
        "ToyFaulty": {"alertname": "ToyFaulty", "severity": "warning", "namespace": "toy", "workload": "alpha"},
        "ToyDown": {"alertname": "ToyDown", "severity": "critical", "job": "beta"},
        "ToyAnyCritical": {"alertname": "ToyAnyCritical", "severity": "page"},
    }
    runs = []
    for alert in profile.alerts:
        scenario = alert.scenarios[0]
        prediction = Prediction(
            alert_key=alert.key, alert=alert.name, scenario_id=scenario.id, level=None, hold_s=600.0,
            fire_after_s=fire[alert.name], revert_after_s=600.0, resolved_after_s=630.0,
            labels=(labels[alert.name],),
        )
        runs.append(ScenarioRun(alert, scenario, None, prediction))
    return runs
