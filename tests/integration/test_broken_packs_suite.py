"""Packs broken in one way each fail the conformance suite on the broken alert, named in the failing test id.

The broken packs and what was broken are listed in tests/data/broken-packs/README.md (one row per folder).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.profiles import load_profile

BROKEN = Path(__file__).resolve().parents[1] / "data" / "broken-packs"
# The alert column is ``Name[severity]``, or ``*[set-up]`` for a receiver setting every alert must fail on.
ROW = re.compile(
    r"^\| (?P<folder>[\w-]+) \| (?P<profile>\w+) \| (?P<alert>\w+|\*)\[(?P<severity>\w+)\] \| (?P<how>[\w-]+) \|"
)

pytestmark = pytest.mark.needs_binaries("promtool", "amtool")


def _rows() -> list[dict[str, str]]:
    rows = [m.groupdict() for line in (BROKEN / "README.md").read_text().splitlines() if (m := ROW.match(line))]
    assert rows, "no rows in the broken-packs README"
    return rows


def _failed_ids(result: pytest.RunResult) -> list[str]:
    return [line.split(" ", 2)[1] for line in result.outlines if line.startswith("FAILED ")]


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest shortens summary lines to the terminal width; keep whole ids and reasons."""
    monkeypatch.setenv("COLUMNS", "1000")


@pytest.mark.parametrize("row", _rows(), ids=lambda row: row["folder"])
def test_only_the_broken_alert_fails_with_a_one_line_reason(pytester: pytest.Pytester, row: dict[str, str]) -> None:
    """Every static item runs: the failures are exactly the broken alert's, each with a one-line reason."""
    result = pytester.runpytest_subprocess(
        "--profile",
        row["profile"],
        "--alert-pack",
        str(BROKEN / row["folder"]),
        "-m",
        "static",
        "-p",
        "no:randomly",
        "-rf",
    )
    output = result.stdout.str() + result.stderr.str()
    failed = _failed_ids(result)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output
    assert failed, output
    # A documented finding of the reference pack is only an expected failure for the reference pack itself.
    profile = load_profile(row["profile"])
    findings = [a.name for a in profile.alerts if a.expected_failure]
    if row["alert"] == "*":
        # A receiver's setting: depth 4 of that set-up, for every documented alert, and nothing else.
        setup = row["severity"]
        items = [test_id.split("::")[-1] for test_id in failed]
        assert len(items) == len(set(items)) == len(profile.alerts), failed
        assert all(item.startswith(f"test_routing[{row['profile']}:") and item.endswith(f":{setup}]") for item in items)
        assert {a.name for a in profile.alerts} == {item.split(":")[1] for item in items}, failed
    else:
        allowed = [f"[{row['profile']}:{name}" for name in (row["alert"], *findings)]
        assert any(f"[{row['profile']}:{row['alert']}" in test_id for test_id in failed), failed
        assert all(any(mark in test_id for mark in allowed) for test_id in failed), failed
    assert "Traceback" not in output
    reasons = [line for line in result.outlines if line.startswith("FAILED ")]
    assert all(" - " in line and line.split(" - ", 1)[1].strip() for line in reasons), reasons


def test_operator_namespace_scoping_is_named_in_the_reason(pytester: pytest.Pytester) -> None:
    row = next(r for r in _rows() if r["folder"] == "runai-wrong-namespace")
    result = pytester.runpytest_subprocess(
        "--profile",
        row["profile"],
        "--alert-pack",
        str(BROKEN / row["folder"]),
        "-m",
        "static",
        "-k",
        "test_routing",
        "-p",
        "no:randomly",
        "-rf",
    )
    failed = _failed_ids(result)
    assert any(test_id.endswith(f"test_routing[runai:{row['alert']}:email]") for test_id in failed), failed
    reasons = [line for line in result.outlines if line.startswith("FAILED ")]
    assert any('requires namespace="runai"' in line and "Prometheus Operator" in line for line in reasons), reasons
