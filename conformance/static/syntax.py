"""Depth 2: ``promtool check rules`` on every rule file and ``amtool check-config`` on every Alertmanager
set-up of the pack, each tool called once for all files."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conformance.tools import CommandRunner, run_command

_RULE_ERROR = re.compile(
    r'^(?P<file>.+?): (?:\d+:\d+: )?group "(?P<group>.*?)", rule (?P<index>\d+), "(?P<name>.*?)": (?P<message>.*)$'
)
_AMTOOL_FILE = re.compile(r"^Checking '(?P<file>.+?)'\s+(?P<verdict>SUCCESS|FAILED)(?::\s*(?P<message>.*))?$")


@dataclass
class SyntaxReport:
    """What the tools said: errors per alert name, per rule file (not tied to one rule), per set-up."""

    rule_errors: dict[str, list[str]] = field(default_factory=dict)
    file_errors: dict[str, list[str]] = field(default_factory=dict)
    setup_errors: dict[str, list[str]] = field(default_factory=dict)
    promtool_output: str = ""
    amtool_output: str = ""
    promtool_failed: bool = False  # promtool check rules refused something, attributed or not


def parse_promtool_check(output: str, files: Sequence[Path], report: SyntaxReport) -> None:
    names = {str(path) for path in files}
    for raw_line in output.splitlines():
        line = raw_line.strip()
        if match := _RULE_ERROR.match(line):
            report.rule_errors.setdefault(match["name"], []).append(
                f"{Path(match['file']).name}: group {match['group']!r}, rule {match['index']}: {match['message']}"
            )
            continue
        for name in names:
            if line.startswith(f"{name}:"):
                report.file_errors.setdefault(name, []).append(line[len(name) + 1 :].strip())


def parse_amtool_check(output: str, setups: Mapping[str, Path], report: SyntaxReport) -> None:
    by_file = {str(path): setup for setup, path in setups.items()}
    for line in output.splitlines():
        match = _AMTOOL_FILE.match(line.strip())
        if match and match["verdict"] == "FAILED":
            setup = by_file.get(match["file"], match["file"])
            report.setup_errors.setdefault(setup, []).append(match["message"] or "amtool check-config failed")


def check_syntax(
    rule_files: Sequence[Path],
    setups: Mapping[str, Path],
    *,
    promtool: Path,
    amtool: Path | None,
    runner: CommandRunner = run_command,
    timeout_s: float = 120.0,
) -> SyntaxReport:
    """Run both checkers once over everything; a non-zero exit without parsed errors is kept as a file error."""
    report = SyntaxReport()
    if rule_files:
        result = runner([str(promtool), "check", "rules", *map(str, rule_files)], timeout=timeout_s)
        report.promtool_output = result.output
        parse_promtool_check(result.output, rule_files, report)
        report.promtool_failed = result.returncode != 0
        if result.returncode != 0 and not (report.rule_errors or report.file_errors):
            report.file_errors.setdefault("promtool", []).append(result.output.strip() or "promtool check rules failed")
    if setups and amtool is not None:
        result = runner([str(amtool), "check-config", *map(str, setups.values())], timeout=timeout_s)
        report.amtool_output = result.output
        parse_amtool_check(result.output, setups, report)
        if result.returncode != 0 and not report.setup_errors:
            report.setup_errors.setdefault("amtool", []).append(result.output.strip() or "amtool check-config failed")
    return report
