"""What the suite writes for Prometheus to read, read by the real promtool: the simulated cluster's exposition and
the twin's backfill of the warm-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.sim import SimulatedCluster
from conformance.sim.examples import example_environment
from conformance.testing.toy import ToyCluster
from conformance.tools import find_tool, run_command
from conformance.twin.backfill import create_blocks, sample_warmup, write_openmetrics

pytestmark = pytest.mark.needs_binaries("promtool")


def test_exposition_passes_promtool_check_metrics() -> None:
    healthy = SimulatedCluster(example_environment())
    healthy.advance_to(300.0)
    promtool = find_tool("promtool")
    # Every kind of target: the exporters, the kubelet's three endpoints, the control plane, the operator.
    for target_id in sorted({t.id for t in healthy.targets() if not t.id.startswith("pod-")}):
        text = healthy.exposition(target_id)
        assert text is not None
        result = run_command([str(promtool), "check", "metrics"], input_text=text, timeout=60)
        # check metrics exits 1 on lint advice (naming); a parse error is what must never happen.
        assert "error while linting" not in result.stderr and "text format parsing error" not in result.stderr, (
            result.stderr
        )


def test_promtool_accepts_the_backfill(tmp_path: Path) -> None:
    cluster = ToyCluster([("toy", "alpha"), ("toy", "beta")])
    source = tmp_path / "warmup.om.txt"
    write_openmetrics(sample_warmup(cluster, 600.0, 30.0), lambda virtual: 1_700_000_000.0 + virtual / 20, source)
    create_blocks(source, tmp_path / "data", find_tool("promtool"))
    assert [p for p in (tmp_path / "data").iterdir() if (p / "meta.json").is_file()]
    assert not source.exists()
