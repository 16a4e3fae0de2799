"""When an aggregate over ``ALERTS`` fails, its reason names the inner alert that changed, not only the symptom."""

from __future__ import annotations

import shutil

import pytest

from conformance.profiles import load_profile

pytestmark = pytest.mark.needs_binaries("promtool", "amtool")


def test_a_failing_aggregate_names_the_inner_alert_that_fires_on_a_healthy_cluster(pytester: pytest.Pytester) -> None:
    pack = pytester.path / "pack"
    shutil.copytree(load_profile("runai").pack_path, pack)
    values = pack / "values.yaml"
    # RunaiNodeUnknownState now fires on every node that is schedulable: a healthy cluster pages.
    values.write_text(
        values.read_text().replace(
            "max by (node) (kube_node_spec_unschedulable) == 1", "max by (node) (kube_node_spec_unschedulable) == 0"
        )
    )
    result = pytester.runpytest_subprocess(
        "--profile", "runai", "--alert-pack", str(pack), "-m", "static", "-k", "behaviour and RunaiCriticalProblem"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "fire case: cordon-node on node gpu-node-6: fires at * while the cluster is still healthy; the alerts it "
            "reads: *RunaiNodeUnknownState fires at * while the cluster is still healthy*",
        ]
    )
