"""``--backend cluster`` without ``--allow-disruption``: the run stops at once, one line, no API call at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.testing.fake_api import FakeKubeApi

# The run looks for promtool and amtool before anything else (a missing tool is the first line a user sees),
# and the static depths run them.
pytestmark = pytest.mark.needs_binaries("promtool", "amtool")


def test_refuses_before_any_call(pytester: pytest.Pytester, tmp_path: Path) -> None:
    with FakeKubeApi() as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        result = pytester.runpytest_subprocess(
            "--profile", "runai", "--backend", "cluster", f"--kubeconfig={kubeconfig}"
        )
        calls = list(api.calls)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    assert errors == ["ERROR: refusing to run: 15 fault(s) are not allowed on this cluster; nothing was touched."]
    assert "--allow-disruption is not given" in output and "Traceback" not in output
    assert calls == []


def test_static_depths_need_no_allowance(pytester: pytest.Pytester, tmp_path: Path) -> None:
    with FakeKubeApi() as api:
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        result = pytester.runpytest_subprocess(
            "--profile", "aistore", "--backend", "cluster", f"--kubeconfig={kubeconfig}", "-m", "static"
        )
        calls = list(api.calls)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert calls == []
