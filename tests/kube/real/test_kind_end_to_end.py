"""The runai profile end to end on a real kind cluster. Opt-in: needs kind, helm, docker and a Docker engine.

Everything that can be proven without Docker is proven in ``tests/kube`` against the fake API server; this file
only adds what needs a real kubelet, a real Prometheus Operator and real notifications.
"""

from __future__ import annotations

import pytest

from conformance.errors import ToolError
from conformance.kube.backend import KubeBackend
from conformance.kube.faults import load_registry
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
