"""``amtool`` wrappers: config checks (batched) and routing tests (a bounded thread pool), and a cross-check
of the in-process routing against amtool's answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.errors import ToolError
from conformance.routing.matchers import quote
from conformance.routing.tree import route_alert
from conformance.tools import CommandRunner, find_tool, run_command

TIMEOUT_S = 30.0
_CHECKING = re.compile(r"^Checking '(?P<path>.+?)'\s+(?:(?P<ok>SUCCESS)|FAILED: (?P<message>.*))$")


@dataclass(frozen=True)
class ConfigCheckResult:
    """amtool's verdict on one config file: ``ok``, and amtool's message when it is not."""

    path: Path
    ok: bool
    message: str = ""


def check_config(
    paths: Sequence[Path], *, runner: CommandRunner = run_command, amtool: Path | None = None
) -> list[ConfigCheckResult]:
    """``amtool check-config`` on all ``paths`` in one call; one result per path, in order.

    A path that does not exist is a failed result without asking amtool (amtool would abort the whole batch).
    """
    missing = {path for path in paths if not path.is_file()}
    present = [path for path in paths if path not in missing]
    verdicts: dict[str, ConfigCheckResult] = {}
    if present:
        binary = amtool or find_tool("amtool")
        argv = [str(binary), "check-config", *(str(path) for path in present)]
        result = runner(argv, timeout=TIMEOUT_S + 2 * len(present))
        for line in result.output.splitlines():
            found = _CHECKING.match(line.strip())
            if found:
                path = found.group("path")
                verdicts[path] = ConfigCheckResult(Path(path), bool(found.group("ok")), found.group("message") or "")
        unreported = [path for path in present if str(path) not in verdicts]
        if unreported:
            raise ToolError(
                f"amtool check-config gave no verdict for {', '.join(map(str, unreported))}",
                argv=argv,
                stderr=result.output,
            )
    return [
        ConfigCheckResult(path, False, "file does not exist") if path in missing else verdicts[str(path)]
        for path in paths
    ]


def routes_test_argv(binary: Path, config_path: Path, labels: Mapping[str, str]) -> list[str]:
    """``amtool config routes test --config.file=F name="value" ...`` (values quoted: any value survives)."""
    return [
        str(binary),
        "config",
        "routes",
        "test",
        f"--config.file={config_path}",
        *(f"{name}={quote(value)}" for name, value in labels.items()),
    ]


def amtool_routes(
    config_path: Path,
    label_sets: Sequence[Mapping[str, str]],
    *,
    runner: CommandRunner = run_command,
    workers: int = 4,
    amtool: Path | None = None,
) -> list[list[str]]:
    """The receivers amtool routes each label set to (in amtool's order), one list per label set."""
    binary = amtool or find_tool("amtool")

    def one(labels: Mapping[str, str]) -> list[str]:
        argv = routes_test_argv(binary, config_path, labels)
        result = runner(argv, timeout=TIMEOUT_S)
        if result.returncode != 0:
            raise ToolError(f"amtool config routes test failed for {dict(labels)}", argv=argv, stderr=result.output)
        text = result.stdout.strip()
        return text.split(",") if text else []

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, label_sets))


def cross_check(
    config: Mapping[str, Any],
    config_path: Path,
    label_sets: Sequence[Mapping[str, str]],
    *,
    runner: CommandRunner = run_command,
    workers: int = 4,
    amtool: Path | None = None,
) -> list[str]:
    """Mismatches between in-process routing of ``config`` and amtool's on ``config_path``; empty if none."""
    answers = amtool_routes(config_path, label_sets, runner=runner, workers=workers, amtool=amtool)
    mismatches = []
    for labels, theirs in zip(label_sets, answers, strict=True):
        ours = [match.receiver for match in route_alert(config, labels)]
        if ours != theirs:
            mismatches.append(f"labels {dict(labels)}: in-process routing gives {ours}, amtool gives {theirs}")
    return mismatches
