"""The runai profile end to end on a real kind cluster. Opt-in: needs kind, helm, docker and a Docker engine.

Everything that can be proven without Docker is proven in ``tests/kube`` against the fake API server; this file
only adds what needs a real kubelet, a real Prometheus Operator and real notifications.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conformance.kube.backend import KubeBackend
from conformance.kube.faults import load_registry
from conformance.options import Options
from conformance.session import ConformanceSession


def _missing() -> str | None:
    for tool in ("kind", "helm", "docker"):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH"
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "docker info did not answer"
    if info.returncode != 0:
        return "the Docker engine is not reachable (docker info failed)"
    return None


MISSING = _missing()
pytestmark = [pytest.mark.real_cluster, pytest.mark.skipif(MISSING is not None, reason=f"real kind run: {MISSING}")]


def test_runai_on_kind_every_live_alert_is_notified() -> None:
    session = ConformanceSession.open(
        Options(profile="runai", backend="kind", cluster_name="alert-conformance-e2e", keep_cluster="never")
    )
    backend = KubeBackend(session.options, session.profile, session.pack, load_registry())
    try:
        runs = session.scenario_runs()
        observations = backend.run(runs, status=print)
    finally:
        backend.close()
        session.close()
    ran = [o for o in observations if o.skipped is None]
    assert ran, "no scenario could run on kind"
    missed = [o.run_id for o in ran if o.notified_s is None]
    assert missed == [], f"no notification captured for {missed}"
    # judged exactly as test_live judges twin runs
    from conformance.observe.expectations import expectation_for
    from conformance.observe.verdict import judge

    by_id = {run.id: run for run in runs}
    failed = [
        judge(expectation_for(by_id[o.run_id], session.profile, session.pack, backend.time_scale), o) for o in ran
    ]
    assert [v.message() for v in failed if v.outcome == "fail"] == []
    for observation in observations:
        if observation.skipped is not None:
            assert observation.skipped  # every skip carries its reason
