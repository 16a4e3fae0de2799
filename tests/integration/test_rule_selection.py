"""A pack loads as Prometheus loads it: several rules may share an alert name, even name and severity. A profile
entry selects the rules it documents (name, severity, optional ``rule_labels``) and every depth judges their union.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.needs_binaries("promtool", "amtool")

# Two ApiDown rules of one severity, told apart by a label: a fast one (2m) and a slow one (10m), as
# kube-prometheus's burn-rate alerts differ only by their long/short windows.
TWO_RULES = """\
groups:
  - name: shop
    rules:
      - alert: ApiDown
        expr: up{job="api"} == 0
        for: 2m
        labels: {severity: critical, speed: fast}
        annotations: {summary: "api target {{ $labels.instance }} is down"}
      - alert: ApiDown
        expr: up{job="api"} == 0
        for: 10m
        labels: {severity: critical, speed: slow}
        annotations: {summary: "api target {{ $labels.instance }} is down"}
"""


def _select(profile: Path, **rule_labels: str) -> None:
    """Narrow the mini profile's ApiDown entry to the rules carrying ``rule_labels``."""
    pairs = ", ".join(f"{name}: {value}" for name, value in rule_labels.items())
    selected = f"    severity: critical\n    rule_labels: {{{pairs}}}\n"
    profile.write_text(profile.read_text().replace("    severity: critical\n", selected))


def test_an_exact_duplicate_rule_loads_and_every_alert_gets_a_verdict(pytester: pytest.Pytester, mini: Path) -> None:
    rules = mini / "pack" / "rules.yaml"
    text = rules.read_text()
    rules.write_text(text + text[text.index("      - alert: ApiDown") :])
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static")
    result.assert_outcomes(passed=6)


def test_rule_labels_select_one_of_two_rules_with_one_name_and_severity(pytester: pytest.Pytester, mini: Path) -> None:
    (mini / "pack" / "rules.yaml").write_text(TWO_RULES)
    _select(mini / "profile.yaml", speed="fast")
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static")
    # The slow rule fires only after 10m: judged with it, the documented "for 2m" would still hold (the union fires
    # at 2m), but its own label set would be routed too; selected out, only the fast rule is judged.
    result.assert_outcomes(passed=6)


def test_the_union_of_the_selected_rules_is_judged(pytester: pytest.Pytester, mini: Path) -> None:
    rules = TWO_RULES.replace("for: 2m\n", "for: 5m\n")
    (mini / "pack" / "rules.yaml").write_text(rules)
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static")
    # Without rule_labels the entry stands for both rules: the earliest (5m) is later than the documented 2m.
    result.assert_outcomes(failed=2, passed=4)
    result.stdout.fnmatch_lines(
        [
            "_*test_contract[[]mini:ApiDown[]]*",
            "`for` 5m is longer than the documented 2m*",
            "_*test_behaviour[[]mini:ApiDown[]]*",
            "fire case: target-down on shop/api: fires 5m* after the fault, later than the bound*",
        ]
    )


def test_an_entry_matching_no_rule_is_one_line_naming_what_the_pack_has(pytester: pytest.Pytester, mini: Path) -> None:
    (mini / "pack" / "rules.yaml").write_text(TWO_RULES)
    _select(mini / "profile.yaml", speed="medium")
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static")
    line = (
        "no rule named ApiDown with severity critical and speed=medium: its rules carry "
        "{severity=critical, speed=fast} at *rules.yaml:4; {severity=critical, speed=slow} at *rules.yaml:9"
    )
    result.stdout.fnmatch_lines(
        ["_*test_contract[[]mini:ApiDown[]]*", line, "_*test_behaviour[[]mini:ApiDown[]]*", line]
    )
    result.assert_outcomes(failed=2, passed=4)


def test_two_entries_that_could_select_the_same_rule_are_one_profile_error(
    pytester: pytest.Pytester, mini: Path
) -> None:
    profile = mini / "profile.yaml"
    text = profile.read_text()
    entry = text[text.index("  - name: ApiDown") :]
    narrowed = entry.replace("severity: critical\n", "severity: critical\n    rule_labels: {speed: fast}\n")
    profile.write_text(text + narrowed)
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1, result.stderr.str()
    assert "ApiDown{speed=fast} and alerts[0] (ApiDown), both severity critical, can select the same rules" in errors[0]
