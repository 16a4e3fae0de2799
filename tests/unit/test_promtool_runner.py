"""Reading firing timelines out of promtool's failure report, and the batch it is given."""

from __future__ import annotations

from pathlib import Path

import yaml

from conformance.static.promtool_runner import Batch, CaseInput, build_test_file, parse_labels, parse_output, run_cases
from conformance.testing.doubles import FakeRunner
from conformance.tools import CommandResult

REPORT = """Unit Testing:  t.yml
  FAILED:
    name: A[critical]|s|fire,
    alertname: A, time: 2m30s,
        exp:[],
        got:[
            0:
              Labels:{alertname="A", inst="a\\"q", severity="critical"}
              Annotations:{summary="x a"}
            1:
              Labels:{alertname="A", inst="b", severity="warning"}
              Annotations:{}
            ]
    name: A[critical]|s|fire,
    alertname: A, time: 1h0m15s,
        exp:[],
        got:[
            0:
              Labels:{alertname="A", inst="a\\"q", severity="critical"}
              Annotations:{summary="x a"}
            ]
    name: B[warning]|t|healthy,
    alertname: B, time: 45s,
        exp:[],
        got:[
            0:
              Labels:{alertname="B"}
              Annotations:{}
            ]
"""


def test_parse_output_groups_events_by_case_name() -> None:
    timelines = parse_output(REPORT)
    fire = timelines["A[critical]|s|fire"]
    assert fire.firing_at == [150.0, 3615.0]
    critical = fire.only(lambda labels: labels.get("severity") == "critical")
    assert critical.label_sets == [{"alertname": "A", "inst": 'a"q', "severity": "critical"}]
    assert fire.only(lambda labels: labels.get("severity") == "warning").firing_at == [150.0]
    assert timelines["B[warning]|t|healthy"].firing_at == [45.0]


def test_parse_labels_unescapes_go_strings() -> None:
    assert parse_labels('a="x\\\\y", b="\\n"') == {"a": "x\\y", "b": "\n"}


def test_test_file_checks_every_evaluation_step() -> None:
    case = CaseInput("c", "A", {(("__name__", "m"),): "1x3"}, horizon_s=60)
    data = yaml.safe_load(build_test_file([Path("r.yml")], [case], input_step_s=15, evaluation_s=30))
    group = data["tests"][0]
    assert group["name"] == "c" and group["interval"] == "15s"
    assert [check["eval_time"] for check in group["alert_rule_test"]] == ["0s", "30s", "1m"]
    assert all(check["exp_alerts"] == [] for check in group["alert_rule_test"])


def test_run_cases_runs_one_process_per_batch_and_maps_silent_cases(tmp_path: Path) -> None:
    def answer(argv: object) -> CommandResult:
        text = Path(list(argv)[-1]).read_text()  # type: ignore[call-overload]
        output = REPORT if "A[critical]|s|fire" in text else "SUCCESS"
        return CommandResult(tuple(argv), 1 if output == REPORT else 0, output, "")  # type: ignore[arg-type]

    runner = FakeRunner(answer)
    cases = [CaseInput(name, "A", {}, 60) for name in ("A[critical]|s|fire", "quiet-1", "quiet-2")]
    batches = [Batch((Path("a.yml"),), (cases[0], cases[2])), Batch((Path("b.yml"),), (cases[1],))]
    timelines = run_cases(
        batches, promtool=Path("promtool"), workdir=tmp_path, input_step_s=15, evaluation_s=15, runner=runner
    )
    assert len(runner.calls) == 2
    assert timelines["A[critical]|s|fire"].firing_at == [150.0, 3615.0]
    assert timelines["quiet-1"].firing_at == [] and timelines["quiet-2"].firing_at == []
