"""The runai profile end to end on a real kind cluster. Opt-in: needs kind, helm, docker and a Docker engine.

Everything that can be proven without Docker is proven in ``tests/kube`` against the fake API server; this file
only adds what needs a real kubelet, a real Prometheus Operator and real notifications.
"""

from __future__ import annotations

import pytest

from conformance.backends import make_backend
from conformance.errors import ToolError
from conformance.options import Options
from conformance.session import ConformanceSession
from conformance.tools import find_tool, run_command

# A missing kind, helm or docker binary skips through the needs_binaries hook in tests/conftest.py.
pytestmark = [pytest.mark.real_cluster, pytest.mark.needs_binaries("kind", "helm", "docker")]


@pytest.fixture(scope="module")
def docker_engine() -> None:
    """Skip when the Docker engine does not answer: a binary on PATH is not yet a working engine. Asked only when
    the test runs (not at collection, where every xdist worker would wait for it)."""
    try:
        info = run_command([str(find_tool("docker")), "info"], timeout=20)
    except ToolError:
        pytest.skip("real kind run: docker info did not answer")
    if info.returncode != 0:
        pytest.skip("real kind run: the Docker engine is not reachable (docker info failed)")


@pytest.mark.usefixtures("docker_engine")
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
