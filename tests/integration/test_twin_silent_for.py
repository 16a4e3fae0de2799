"""Live ``silent_for`` in the twin, with real binaries: runai's system-worker-lost (seed 004) raises
RunaiDeploymentNoAvailableReplicas for the single-replica Deployments on the lost node and must stay silent for the
scaled ones. The reference pack passes; a pack that fires for a scaled one fails, naming its labels and when."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conformance.observe.backend import RunResult
from conformance.options import Options
from conformance.profiles import load_profile
from conformance.session import ConformanceSession
from conformance.twin.backend import TwinBackend

pytestmark = [pytest.mark.needs_binaries, pytest.mark.live]

SCALE = 20.0
ALERT = "RunaiDeploymentNoAvailableReplicas"
RUN_ID = f"{ALERT}[critical]:system-worker-lost"
REFERENCE_EXPR = 'kube_deployment_status_replicas_available{namespace=~"runai|runai-backend"} == 0'
#: "No available replicas" mistaken for "fewer available than desired": a scaled Deployment keeping one pod of two
#: on the other system worker fires too.
BROKEN_EXPR = (
    'kube_deployment_status_replicas_available{namespace=~"runai|runai-backend"} < '
    'kube_deployment_spec_replicas{namespace=~"runai|runai-backend"}'
)


def _worker_lost(pack: Path | None) -> RunResult:
    """The one live run of system-worker-lost, predicted by depth 3 on ``pack`` (None: the reference pack)."""
    session = ConformanceSession.open(Options(profile="runai", alert_pack=pack, time_scale=SCALE))
    try:
        runs = [run for run in session.scenario_runs() if run.id == RUN_ID]
        assert runs, "depth 3 predicts the scenario"
        backend = TwinBackend(session.profile, session.pack, time_scale=SCALE)
        try:
            (result,) = backend.run(runs, status=lambda _line: None).results
        finally:
            backend.close()
        return result
    finally:
        session.close()


def test_the_reference_pack_stays_silent_for_the_scaled_deployments_live() -> None:
    result = _worker_lost(None)
    verdict = result.verdict()
    assert verdict.outcome == "pass", verdict.message()
    assert result.observation.unsilenced == []
    notified = {
        alert["labels"].get("deployment")
        for notification in result.observation.notifications
        for alert in notification.alerts
    }
    assert "runai-agent" in notified


def test_a_pack_that_fires_for_a_scaled_deployment_fails_live_naming_it(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(load_profile("runai").pack_path, pack)
    values = pack / "values.yaml"
    text = values.read_text(encoding="utf-8")
    assert REFERENCE_EXPR in text
    values.write_text(text.replace(REFERENCE_EXPR, BROKEN_EXPR, 1), encoding="utf-8")
    verdict = _worker_lost(pack).verdict()
    assert verdict.outcome == "fail"
    lines = verdict.message().splitlines()
    for deployment in ("researcher-service", "runai-scheduler", "pod-grouper"):
        prefix = f'{RUN_ID}: fired for {{deployment="{deployment}"}} at '
        found = [line for line in lines if line.startswith(prefix)]
        assert found, verdict.message()
        assert found[0].endswith("s although the document says it stays silent for it"), found[0]
