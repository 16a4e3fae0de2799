"""Run many behaviour cases through ``promtool test rules`` in a few processes and read each firing timeline.

Each case becomes a test group named by the case id, with an ``alert_rule_test`` expecting *no* alert at every
evaluation step. promtool then reports, per group, every step at which the alert was firing, with its labels:
the exact firing timeline of the pack's own rules on the case's series, in virtual time.

A case may also watch an ``ALERTS`` selection (:attr:`CaseInput.watched`, pending instances included, which an
``alert_rule_test`` never shows): a ``promql_expr_test`` expecting no sample at every step, whose failures give
each instance's labels and state. promtool does not name the group of a failing expression, so the expression
carries the case's name in a PromQL comment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from conformance.model.durations import format_duration, parse_duration
from conformance.static.series import SeriesKey, series_text
from conformance.tools import CommandRunner, run_command

_NAME = re.compile(r"^\s*name: (?P<name>.*),\s*$")
_ALERT = re.compile(r"^\s*alertname: (?P<alert>[^,]+), time: (?P<time>[^,]+),\s*$")
_LABELS = re.compile(r"^\s*Labels:\{(?P<body>.*)\}\s*$")
_PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')
_EXPR = re.compile(r'^\s*expr: "(?P<expr>(?:[^"\\]|\\.)*)", time: (?P<time>[^,]+),\s*$')
_GOT = re.compile(r"^\s*got: (?P<body>.*)$")
_LABEL_SET = re.compile(r'\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}')
#: What separates a watched expression from the case name it carries (a PromQL comment).
_TAG = " # case "


@dataclass(frozen=True)
class CaseInput:
    """One test group: its name, the alert checked, its series and how long to check. ``inner`` names the
    alerts an aggregate reads through ``ALERTS``: they are checked too, so a failing aggregate can say which of
    them changed."""

    name: str
    alert: str
    series: dict[SeriesKey, str]
    horizon_s: float
    inner: tuple[str, ...] = ()
    #: An ``ALERTS`` selection whose every sample (pending or firing) is recorded in :attr:`Timeline.watched`.
    watched: str | None = None
    #: promtool's input interval for this case's series (its grid's, :mod:`conformance.static.grid`); None: the
    #: run's.
    input_step_s: float | None = None


@dataclass
class Timeline:
    """Each (evaluation time in seconds from the series start, labels) at which an alert instance was firing."""

    events: list[tuple[float, dict[str, str]]] = field(default_factory=list)
    error: str | None = None  # promtool could not evaluate this case's batch at all (the rules did not load)
    #: An aggregate's inner alerts (:attr:`CaseInput.inner`) that fired: name -> evaluation times.
    inner: dict[str, list[float]] = field(default_factory=dict)
    #: Each sample of the case's watched ``ALERTS`` selection: (evaluation time, its labels, ``alertstate`` too).
    watched: list[tuple[float, dict[str, str]]] = field(default_factory=list)

    def add(self, at: float, labels: dict[str, str]) -> None:
        self.events.append((at, labels))

    def only(self, keep: Callable[[dict[str, str]], bool] | None) -> Timeline:
        """The events whose labels ``keep`` accepts (all events when ``keep`` is None): several rules may share
        the alert name, and a documented alert is the union of the rules its profile entry selects."""
        if keep is None:
            return self
        return Timeline(
            [(at, labels) for at, labels in self.events if keep(labels)],
            self.error,
            self.inner,
            [(at, labels) for at, labels in self.watched if keep(labels)],
        )

    @property
    def firing_at(self) -> list[float]:
        return sorted({at for at, _ in self.events})

    @property
    def label_sets(self) -> list[dict[str, str]]:
        unique: list[dict[str, str]] = []
        for _, labels in self.events:
            if labels not in unique:
                unique.append(labels)
        return unique


def _unquote(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), value)


def parse_labels(body: str) -> dict[str, str]:
    return {key: _unquote(value) for key, value in _PAIR.findall(body)}


def parse_output(output: str, checked: Mapping[str, str] | None = None) -> dict[str, Timeline]:
    """Firing timelines by test-group name from promtool's failure report. ``checked`` maps a group to the alert
    it judges; the other alerts a group checks (an aggregate's inner alerts) go to :attr:`Timeline.inner`."""
    timelines: dict[str, Timeline] = {}
    group: str | None = None
    at: float | None = None
    alert = ""
    watched: tuple[str, float] | None = None  # the case and time of the watched expression just reported
    for line in output.splitlines():
        if match := _EXPR.match(line):
            expr = _unquote(match["expr"])
            watched = None
            if _TAG in expr:
                watched = (expr.rsplit(_TAG, 1)[1], parse_duration(match["time"].strip()))
        elif (match := _GOT.match(line)) and watched is not None:
            name, when = watched
            samples = timelines.setdefault(name, Timeline()).watched
            samples += [(when, parse_labels(body)) for body in _LABEL_SET.findall(match["body"])]
            watched = None
        elif match := _NAME.match(line):
            group = match["name"]
            at = None
        elif (match := _ALERT.match(line)) and group is not None:
            at = parse_duration(match["time"].strip())
            alert = match["alert"].strip()
            timeline = timelines.setdefault(group, Timeline())
            if checked is not None and alert != checked.get(group, alert):
                times = timeline.inner.setdefault(alert, [])
                if at not in times:
                    times.append(at)
                at = None  # its labels are not the judged alert's
        elif (match := _LABELS.match(line)) and group is not None and at is not None:
            timelines[group].add(at, parse_labels(match["body"]))
    return timelines


def build_test_file(
    rule_files: Sequence[Path], cases: Sequence[CaseInput], input_step_s: float, evaluation_s: float
) -> str:
    """A promtool test file for ``cases`` (YAML, as JSON), whose series have a value or gap every ``input_step_s``
    (or their own :attr:`CaseInput.input_step_s`)."""
    groups = []
    for case in cases:
        checks = int(case.horizon_s // evaluation_s) + 1
        group: dict[str, object] = {
            "name": case.name,
            "interval": format_duration(case.input_step_s or input_step_s),
            "input_series": [{"series": series_text(key), "values": values} for key, values in case.series.items()],
            "alert_rule_test": [
                {"eval_time": format_duration(i * evaluation_s), "alertname": alert, "exp_alerts": []}
                for i in range(checks)
                for alert in (case.alert, *case.inner)
            ],
        }
        if case.watched is not None:
            group["promql_expr_test"] = [
                {
                    "expr": f"{case.watched}{_TAG}{case.name}",
                    "eval_time": format_duration(i * evaluation_s),
                    "exp_samples": [],
                }
                for i in range(checks)
            ]
        groups.append(group)
    # JSON is YAML, and promtool reads it as such: written by the C encoder, a test file of a few megabytes
    # takes milliseconds instead of the pure-Python YAML emitter's second.
    return json.dumps(
        {
            "rule_files": [str(p) for p in rule_files],
            "evaluation_interval": format_duration(evaluation_s),
            "tests": groups,
        }
    )


@dataclass(frozen=True)
class Batch:
    """Cases run by one promtool process against the rule files they need (fewer rules, faster evaluation)."""

    rule_files: tuple[Path, ...]
    cases: tuple[CaseInput, ...]
    #: The test file's evaluation interval (its alerts' grid, :mod:`conformance.static.grid`); None: the run's.
    evaluation_s: float | None = None


def run_cases(
    batches: Sequence[Batch],
    *,
    promtool: Path,
    workdir: Path,
    input_step_s: float,
    evaluation_s: float,
    workers: int = 2,
    runner: CommandRunner = run_command,
    timeout_s: float = 600.0,
) -> dict[str, Timeline]:
    """Every case's firing timeline (cases that never fire map to an empty timeline); ``workers`` processes."""

    def run_chunk(index: int) -> dict[str, Timeline]:
        batch = batches[index]
        path = workdir / f"behaviour-{index}.test.yaml"
        text = build_test_file(batch.rule_files, batch.cases, input_step_s, batch.evaluation_s or evaluation_s)
        path.write_text(text, encoding="utf-8")
        result = runner([str(promtool), "test", "rules", str(path)], timeout=timeout_s, cwd=workdir)
        output = result.output
        reported = "name:" in output or "expr:" in output  # a failing alert test, or a watched expression
        if result.returncode not in (0, 1) or (result.returncode == 1 and not reported):
            # The rules of this batch did not load (a template promtool rejects ...): a verdict on its alerts
            # only, with promtool's own first complaint, not an error for the whole run.
            lines = [line.strip() for line in output.splitlines()]
            complaint = next((line for line in lines if line and "Unit Testing" not in line and line != "FAILED:"), "")
            message = f"promtool test rules could not evaluate the rules: {complaint or 'no output'}"
            return {case.name: Timeline(error=message) for case in batch.cases}
        return parse_output(output, {case.name: case.alert for case in batch.cases})

    timelines: dict[str, Timeline] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(batches)))) as pool:
        for part in pool.map(run_chunk, range(len(batches))):
            timelines.update(part)
    return {case.name: timelines.get(case.name, Timeline()) for batch in batches for case in batch.cases}
