"""amtool wrappers with a fake runner: argv, batching, parsing, the cross-check."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from conformance.errors import ToolError
from conformance.routing import amtool_routes, check_config, cross_check, parse_matcher, route_alert
from conformance.testing.doubles import FakeRunner
from conformance.tools import CommandResult

AMTOOL = Path("/usr/bin/amtool")
CONFIG: dict[str, Any] = {
    "route": {"receiver": "default", "routes": [{"receiver": "pager", "matchers": ['severity="critical"']}]},
    "receivers": [{"name": "default"}, {"name": "pager"}],
}


def test_check_config_batches_all_files_in_one_call(tmp_path: Path) -> None:
    good, bad, missing = tmp_path / "good.yml", tmp_path / "bad.yml", tmp_path / "missing.yml"
    good.write_text("x")
    bad.write_text("x")
    output = (
        f"Checking '{good}'  SUCCESS\nFound:\n - global config\n\n"
        f"Checking '{bad}'  FAILED: undefined receiver \"nope\" used in route\n\n"
    )
    runner = FakeRunner(lambda argv: CommandResult(tuple(argv), 1, output, "amtool: error: failed"))
    results = check_config([good, bad, missing], runner=runner, amtool=AMTOOL)
    assert runner.calls == [(str(AMTOOL), "check-config", str(good), str(bad))]
    assert [(r.path, r.ok) for r in results] == [(good, True), (bad, False), (missing, False)]
    assert results[1].message == 'undefined receiver "nope" used in route'
    assert results[2].message == "file does not exist"


def test_check_config_without_verdict_is_a_tool_error(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_text("x")
    runner = FakeRunner(lambda argv: CommandResult(tuple(argv), 1, "", "panic"))
    with pytest.raises(ToolError, match="gave no verdict"):
        check_config([path], runner=runner, amtool=AMTOOL)


def fake_amtool(config: dict[str, Any], lie_for: str | None = None) -> FakeRunner:
    """Answers like amtool would, from the in-process router (or wrongly for one label value)."""

    def handler(argv: Sequence[str]) -> CommandResult:
        labels = {}
        for arg in argv[5:]:
            matcher = parse_matcher(arg)
            labels[matcher.name] = matcher.value
        answer = [m.receiver for m in route_alert(config, labels)]
        if lie_for is not None and lie_for in labels.values():
            answer = ["default"]
        return CommandResult(tuple(argv), 0, ",".join(answer) + "\n", "Warning: --config.file flag overrides\n")

    return FakeRunner(handler)


def test_amtool_routes_argv_quoting_and_parallelism(tmp_path: Path) -> None:
    path = tmp_path / "am.yml"
    threads: set[int] = set()
    inner = fake_amtool(CONFIG)

    def handler(argv: Sequence[str]) -> CommandResult:
        threads.add(threading.get_ident())
        return inner.handler(argv)

    runner = FakeRunner(handler)
    label_sets = [{"severity": "critical", "msg": 'say "hi", ok'}, {"severity": "info"}] * 4
    answers = amtool_routes(path, label_sets, runner=runner, workers=3, amtool=AMTOOL)
    assert answers == [["pager"], ["default"]] * 4
    assert runner.calls[0][:5] == (str(AMTOOL), "config", "routes", "test", f"--config.file={path}")
    assert 'msg="say \\"hi\\", ok"' in [call for calls in runner.calls for call in calls]
    assert 1 <= len(threads) <= 3


def test_amtool_failure_is_a_tool_error(tmp_path: Path) -> None:
    runner = FakeRunner(lambda argv: CommandResult(tuple(argv), 1, "", "amtool: error: bad"))
    with pytest.raises(ToolError, match="routes test failed"):
        amtool_routes(tmp_path / "am.yml", [{"a": "b"}], runner=runner, amtool=AMTOOL)


def test_cross_check_reports_only_mismatches(tmp_path: Path) -> None:
    label_sets = [{"severity": "critical"}, {"severity": "info"}]
    path = tmp_path / "am.yml"
    assert cross_check(CONFIG, path, label_sets, runner=fake_amtool(CONFIG), amtool=AMTOOL) == []
    mismatches = cross_check(CONFIG, path, label_sets, runner=fake_amtool(CONFIG, "critical"), amtool=AMTOOL)
    assert mismatches == [
        "labels {'severity': 'critical'}: in-process routing gives ['pager'], amtool gives ['default']"
    ]
