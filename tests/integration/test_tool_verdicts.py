"""What promtool refuses becomes verdicts on the alerts concerned, in one line each, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conformance.tools import find_tool

pytestmark = pytest.mark.needs_binaries("promtool", "amtool")


def _failed(result: pytest.RunResult) -> dict[str, str]:
    lines = [line for line in result.outlines if line.startswith("FAILED ")]
    return {line.split(" ", 2)[1].split("::")[-1]: line.split(" - ", 1)[-1] for line in lines}


def test_a_template_promtool_refuses(pytester: pytest.Pytester, mini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "1000")
    rules = mini / "pack" / "rules.yaml"
    rules.write_text(rules.read_text().replace("{{ $labels.instance }} is down", "{{ $labels.instance  is down"))
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static", "-rf")
    failed = _failed(result)
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert set(failed) == {
        "test_syntax[mini:ApiDown]",
        "test_rule_files[mini:rule-files]",
        "test_behaviour[mini:ApiDown]",
    }
    assert "rules.yaml:4:" in failed["test_syntax[mini:ApiDown]"]  # the vendor's file and line, not a copy
    assert "promtool test rules could not evaluate the rules" in failed["test_behaviour[mini:ApiDown]"]


def test_an_error_outside_the_documented_alerts_still_fails_the_pack(pytester: pytest.Pytester, mini: Path) -> None:
    rules = mini / "pack" / "rules.yaml"
    rules.write_text(rules.read_text() + '      - record: "job:up:bad name"\n        expr: up\n')
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static", "-rf")
    assert set(_failed(result)) == {"test_rule_files[mini:rule-files]"}


def test_marker_expression_that_keeps_live_items_needs_the_live_tools(
    pytester: pytest.Pytester, mini: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_static_tools = pytester.path / "bin"
    only_static_tools.mkdir()
    for tool in ("promtool", "amtool"):
        os.symlink(find_tool(tool), only_static_tools / tool)
    monkeypatch.setenv("PATH", str(only_static_tools))
    monkeypatch.setenv("ALERT_CONFORMANCE_CACHE", str(pytester.path / "cache"))
    for variable in ("PROMETHEUS", "ALERTMANAGER"):
        monkeypatch.delenv(variable, raising=False)
    refused = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static or live")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    assert "prometheus not found" in refused.stderr.str()
    assert pytester.runpytest_subprocess("--profile", str(mini), "-m", "static").ret == pytest.ExitCode.OK
    assert pytester.runpytest_subprocess("--profile", str(mini), "-m", "not live").ret == pytest.ExitCode.OK
