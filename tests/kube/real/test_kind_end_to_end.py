"""The runai profile end to end on a real kind cluster. Opt-in: needs kind, helm, docker and a Docker engine.

Everything that can be proven without Docker is proven in ``tests/kube`` against the fake API server; this file
only adds what needs a real kubelet, a real Prometheus Operator and real notifications.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conformance.backends import make_backend
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
    backend = make_backend(session)
    try:
        outcome = backend.run(session.live_runs(), status=print)
    finally:
        backend.close()
        session.close()
    ran = [result for result in outcome.results if result.observation.skipped is None]
    assert ran, "no scenario could run on kind"
    missed = [result.run.id for result in ran if result.observation.notified_s is None]
    assert missed == [], f"no notification captured for {missed}"
    # judged by the same verdict as every twin run
    assert [v.message() for v in (result.verdict() for result in ran) if v.outcome == "fail"] == []
    for result in outcome.results:
        if result.observation.skipped is not None:
            assert result.observation.skipped  # every skip carries its reason
