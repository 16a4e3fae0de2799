"""Depth 3 proves a scenario's ``silent_for``: the runai scenario system-worker-lost (seed 004) fires
RunaiDeploymentNoAvailableReplicas for the single-replica Deployments on the lost node, and the pack must stay
silent for the scaled ones (one pod per system worker): a pack that fires for one of them fails, naming it."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.model.profile import Profile
from conformance.packs.loader import load_pack
from conformance.profiles import load_profile
from conformance.static.behaviour import AlertBehaviour, prove_behaviour
from conformance.tools import find_tool

pytestmark = pytest.mark.needs_binaries("promtool")

ALERT = "RunaiDeploymentNoAvailableReplicas"
SCENARIO = "system-worker-lost"
REFERENCE_EXPR = 'kube_deployment_status_replicas_available{namespace=~"runai|runai-backend"} == 0'
#: "No available replicas" mistaken for "fewer available than desired": a scaled Deployment that keeps one pod of
#: two on the other system worker fires too.
BROKEN_EXPR = (
    'kube_deployment_status_replicas_available{namespace=~"runai|runai-backend"} < '
    'kube_deployment_spec_replicas{namespace=~"runai|runai-backend"}'
)


def _worker_loss_only() -> Profile:
    """The runai profile with only the alert's system-worker-lost scenario, so promtool runs one case."""
    profile = load_profile("runai")
    alert = profile.alert(ALERT)
    scenario = next(s for s in alert.scenarios if s.id == SCENARIO)
    assert scenario.silent_for, "the runai profile documents the scaled Deployments as silent"
    return replace(profile, alerts=(replace(alert, scenarios=(scenario,)),))


def _behaviour(profile: Profile, pack_dir: Path, workdir: Path) -> AlertBehaviour:
    workdir.mkdir()
    results = prove_behaviour(profile, load_pack(pack_dir), promtool=find_tool("promtool"), workdir=workdir, workers=1)
    return results[profile.alerts[0].key]


def test_the_reference_pack_fires_for_the_lost_nodes_deployments_and_stays_silent_for_the_scaled_ones(
    tmp_path: Path,
) -> None:
    profile = _worker_loss_only()
    behaviour = _behaviour(profile, profile.pack_path, tmp_path / "work")
    assert behaviour.ok, behaviour.reasons()
    [verdict] = behaviour.verdicts
    fired_for = {labels.get("deployment") for _, labels in verdict.timeline.events}
    assert {"runai-agent", "workload-controller", "metrics-exporter"} <= fired_for
    assert not fired_for & {"researcher-service", "runai-scheduler", "pod-grouper"}
    assert verdict.timeline.watched == []  # not one sample of ALERTS, pending or firing, for the scaled ones


def test_a_pack_that_fires_for_a_scaled_deployment_fails_naming_its_labels(tmp_path: Path) -> None:
    profile = _worker_loss_only()
    pack = tmp_path / "pack"
    shutil.copytree(profile.pack_path, pack)
    values = pack / "values.yaml"
    text = values.read_text(encoding="utf-8")
    assert REFERENCE_EXPR in text
    values.write_text(text.replace(REFERENCE_EXPR, BROKEN_EXPR, 1), encoding="utf-8")
    behaviour = _behaviour(profile, pack, tmp_path / "work")
    assert not behaviour.ok
    [reason] = behaviour.reasons()
    for deployment in ("researcher-service", "runai-scheduler", "pod-grouper"):
        assert f'fires for {{deployment="{deployment}"}} ' in reason, reason
    assert reason.endswith("although the document says it stays silent for them"), reason
    assert reason.startswith("fire case: node-not-ready on node system-worker-1: "), reason
