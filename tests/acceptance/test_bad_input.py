"""Every kind of bad input ends the run with one clear line naming the file and place, and no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

RUNAI_EMAIL_AS_PRINTED = """\
 apiVersion: monitoring.coreos.com/v1alpha1
 kind: AlertmanagerConfig
 metadata:
   name: runai
   namespace: runai
 labels:
    alertmanagerConfig: runai
 spec:
    route:
       continue: true
       groupBy:
       - alertname

       groupWait: 30s
       groupInterval: 5m
       repeatInterval: 1h

    matchers:
    - matchType: =~
      name: alertname
      value: Runai.*

    receiver: email

 receivers:
 - name: 'email'
   emailConfigs:
   - to: '<destination_email_address>'
     from: '<from_email_address>'
     smarthost: 'smtp.gmail.com:587'
     authUsername: '<smtp_server_user_name>'
     authPassword:
       name: alertmanager-smtp-password
         key: password
"""


def _single_error(result: pytest.RunResult) -> str:
    """The run was refused with exactly one ERROR line and no traceback; that line is returned."""
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, output
    return errors[0]


def test_unknown_profile(pytester: pytest.Pytester) -> None:
    line = _single_error(pytester.runpytest_subprocess("--profile", "nope"))
    assert "unknown profile 'nope'" in line
    assert "runai" in line or "bundled" in line


def test_malformed_yaml_the_runai_email_example(pytester: pytest.Pytester, mini: Path) -> None:
    (mini / "pack" / "email.yaml").write_text(RUNAI_EMAIL_AS_PRINTED)
    line = _single_error(pytester.runpytest_subprocess("--profile", str(mini)))
    assert "email.yaml: line 34, column 13: malformed YAML" in line


def test_profile_breaking_its_schema(pytester: pytest.Pytester, mini: Path) -> None:
    profile = mini / "profile.yaml"
    profile.write_text(profile.read_text().replace("severity: critical", "severity: urgent"))
    line = _single_error(pytester.runpytest_subprocess("--profile", str(mini)))
    assert "profile.yaml: line 23 (alerts[0].severity): breaks the profile schema" in line
    assert "'urgent' is not one of" in line


def test_invalid_promql(pytester: pytest.Pytester, mini: Path) -> None:
    rules = mini / "pack" / "rules.yaml"
    rules.write_text(rules.read_text().replace('up{job="api"} == 0', 'up{job="api" == 0'))
    line = _single_error(pytester.runpytest_subprocess("--profile", str(mini)))
    assert "rules.yaml: line 5" in line
    assert "PromQL" in line or "promql" in line


def test_route_to_an_undefined_receiver(pytester: pytest.Pytester, mini: Path) -> None:
    config = mini / "pack" / "alertmanager.yaml"
    config.write_text(config.read_text().replace("receiver: pager", "receiver: nobody"))
    line = _single_error(pytester.runpytest_subprocess("--profile", str(mini)))
    assert "alertmanager.yaml" in line and "nobody" in line and "undefined receiver" in line


def test_missing_binary(pytester: pytest.Pytester, mini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMTOOL", "/nonexistent/promtool")
    monkeypatch.setenv("TMPDIR", str(pytester.path / "tmp"))
    (pytester.path / "tmp").mkdir()
    line = _single_error(pytester.runpytest_subprocess("--profile", str(mini), "-m", "static"))
    assert "promtool: /nonexistent/promtool (from $PROMTOOL) is not an executable file" in line
    assert not [p for p in (pytester.path / "tmp").iterdir() if p.name.startswith("alert-conformance")]


def test_binary_not_on_path(pytester: pytest.Pytester, mini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(pytester.path))
    monkeypatch.delenv("PROMTOOL", raising=False)
    monkeypatch.setenv("ALERT_CONFORMANCE_CACHE", str(pytester.path / "cache"))
    line = _single_error(pytester.runpytest_subprocess("--profile", str(mini), "-m", "static"))
    assert "promtool not found" in line and "apt-get install" in line


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--backend", "docker"], "--backend must be twin, kind or cluster, not 'docker'"),
        (["--time-scale", "fast"], "--time-scale must be a number, not 'fast'"),
        (["--time-scale", "0"], "--time-scale must be between 1"),
        (["--keep-cluster", "maybe"], "--keep-cluster must be never, on-failure or always"),
        (["--alert-pack", "/no/such/pack"], "--alert-pack /no/such/pack: no such file or folder"),
    ],
)
def test_bad_option_values(pytester: pytest.Pytester, mini: Path, option: list[str], message: str) -> None:
    line = _single_error(pytester.runpytest_subprocess("--profile", str(mini), *option))
    assert message in line


def test_a_365_day_window_stops_before_the_run_naming_rule_window_and_option(
    pytester: pytest.Pytester, mini: Path
) -> None:
    rules = mini / "pack" / "rules.yaml"
    rules.write_text(rules.read_text().replace('up{job="api"} == 0', 'max_over_time(up{job="api"}[365d]) == 0'))
    line = _single_error(pytester.runpytest_subprocess("--profile", str(mini), "-m", "static"))
    assert "depth 3 would need about" in line and "(budget 10m)" in line, line
    assert "mostly for ApiDown: it reads 365d back: ApiDown (" in line and "rules.yaml:4) reads [365d]" in line, line
    assert "raise the budget with --budget-memory/--budget-time" in line, line


def test_a_raised_budget_is_honoured_and_a_bad_one_refused(pytester: pytest.Pytester, mini: Path) -> None:
    rules = mini / "pack" / "rules.yaml"
    rules.write_text(rules.read_text().replace('up{job="api"} == 0', 'max_over_time(up{job="api"}[2d]) == 0'))
    line = _single_error(pytester.runpytest_subprocess("--profile", str(mini), "-m", "static", "--budget-time=10s"))
    assert "(budget 10s)" in line and "reads [2d]" in line, line
    line = _single_error(pytester.runpytest_subprocess("--profile", str(mini), "--budget-memory=lots"))
    assert "--budget-memory must be a quantity such as 2Gi or 1500Mi, not 'lots'" in line


CYCLE = """
  - name: loop
    rules:
      - record: shop:a
        expr: shop:b + 1
      - record: shop:b
        expr: shop:a + 1
"""


def test_a_circular_recording_rule_chain_is_one_line_on_the_alert_reading_it(
    pytester: pytest.Pytester, mini: Path
) -> None:
    rules = mini / "pack" / "rules.yaml"
    text = rules.read_text().replace('up{job="api"} == 0', 'up{job="api"} == 0 unless shop:a > 1e9')
    rules.write_text(text + CYCLE)
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static")
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(
        [
            "_*test_behaviour[[]mini:ApiDown[]]*",
            "recording rules shop:a (*rules.yaml:1?) -> shop:b (*rules.yaml:1?) -> shop:a form a cycle: each reads its "
            "own output",
        ]
    )


def test_a_pack_of_ten_thousand_rules_costs_what_its_profiled_alert_costs(
    pytester: pytest.Pytester, mini: Path
) -> None:
    """Prometheus loads 10,000 rules; depth 3 simulates only what the documented alert reads."""
    groups = []
    for group in range(100):
        rules = []
        for index in range(50):
            name = f"g{group}_r{index}"
            rules.append(f"      - record: bulk:{name}\n        expr: sum by (job) (rate(bulk_{name}_total[5m]))")
            rules.append(
                f"      - alert: Bulk_{name}\n        expr: bulk:{name} > 1\n        for: 5m\n"
                f"        labels: {{severity: warning}}\n        annotations: {{summary: bulk {name}}}"
            )
        groups.append(f"  - name: bulk-{group}\n    rules:\n" + "\n".join(rules))
    (mini / "pack" / "bulk.yaml").write_text("groups:\n" + "\n".join(groups) + "\n")
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static")
    result.assert_outcomes(passed=6)
