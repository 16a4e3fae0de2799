"""Mapping promtool's and amtool's verdicts back to alerts and set-ups."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from conformance.static.syntax import check_syntax
from conformance.testing.doubles import FakeRunner
from conformance.tools import CommandResult

PROMTOOL_BAD = (
    "Checking rules/a.yml\n  SUCCESS: 2 rules found\n\nChecking rules/b.yml\n",
    '  FAILED:\nrules/b.yml: group "g", rule 2, "BadTmpl": '
    'annotation "summary": template: __alert_BadTmpl:1: unclosed action\n',
)
AMTOOL_BAD = (
    "Checking 'am/file.yml'  SUCCESS\nChecking 'am/operator.yml'  FAILED: undefined receiver \"x\" used in route\n"
)


def _runner(argv: Sequence[str]) -> CommandResult:
    if argv[1] == "check":
        return CommandResult(tuple(argv), 1, *PROMTOOL_BAD)
    return CommandResult(tuple(argv), 1, AMTOOL_BAD, "amtool: error: failed to validate 1 file(s)\n")


def test_errors_are_attributed_to_alerts_and_set_ups() -> None:
    runner = FakeRunner(_runner)
    report = check_syntax(
        [Path("rules/a.yml"), Path("rules/b.yml")],
        {"file": Path("am/file.yml"), "operator": Path("am/operator.yml")},
        promtool=Path("promtool"),
        amtool=Path("amtool"),
        runner=runner,
    )
    assert len(runner.calls) == 2, "one call per tool for the whole pack"
    assert report.rule_errors == {
        "BadTmpl": ["b.yml: group 'g', rule 2: annotation \"summary\": template: __alert_BadTmpl:1: unclosed action"]
    }
    assert report.setup_errors == {"operator": ['undefined receiver "x" used in route']}
    assert report.file_errors == {}
