"""Depth 3: each documented alert's rule behaviour in virtual time, proven by ``promtool test rules``.

For every alert of a profile, :mod:`conformance.static.cases` gives the fault levels and timelines; the simulated
cluster turns them into the series the exporters would expose; promtool evaluates the pack's own rules on them in
one batch. The verdicts judge the firing timelines against the documented contract, and the firing cases become
the :class:`~conformance.model.prediction.Prediction` the live depths check against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import promql_parser

from conformance.model.contract import AlertContract
from conformance.model.durations import format_duration
from conformance.model.prediction import Prediction
from conformance.model.profile import Profile
from conformance.packs.model import Pack, Rule
from conformance.static.cases import Case, Timing, build_cases, round_up
from conformance.static.promtool_runner import CaseInput, Timeline, run_cases
from conformance.static.series import Selector, record_case, selectors_in
from conformance.tools import CommandRunner, run_command


@dataclass
class CaseVerdict:
    """One case judged: ``problem`` is None when it behaved as documented."""

    case: Case
    timeline: Timeline
    problem: str | None = None
    fire_after_s: float | None = None
    resolved_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class AlertBehaviour:
    """All cases of one documented alert, and its predictions for the live depths."""

    alert: AlertContract
    verdicts: list[CaseVerdict] = field(default_factory=list)
    predictions: list[Prediction] = field(default_factory=list)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and all(v.ok for v in self.verdicts)

    def reasons(self) -> list[str]:
        reasons = [self.problem] if self.problem else []
        reasons += [f"{v.case.describe()}: {v.problem}" for v in self.verdicts if v.problem]
        return reasons


def _max_range_s(expressions: Sequence[str]) -> float:
    """The longest range window or offset any expression looks back over."""
    longest = 0.0

    def visit(node: object) -> None:
        nonlocal longest
        for attribute in ("range", "offset"):
            value = getattr(node, attribute, None)
            if value is not None and hasattr(value, "total_seconds"):
                longest = max(longest, abs(value.total_seconds()))

    for expression in expressions:
        promql_parser.walk(promql_parser.parse(expression), visit, None)
    return longest


def _dependencies(rules: Sequence[Rule], pack: Pack) -> list[Rule]:
    """The rules plus every rule their expressions depend on: recorded series, and all alerts for ``ALERTS``."""
    recorded = {rule.record: rule for group in pack.groups for rule in group.rules if rule.record}
    wanted = list(rules)
    seen = {id(rule) for rule in wanted}
    index = 0
    while index < len(wanted):
        expression = wanted[index].expr
        index += 1
        more: list[Rule] = []
        if "ALERTS" in expression:
            more += pack.alerting_rules
        more += [rule for name, rule in recorded.items() if name and name in expression]
        for rule in more:
            if id(rule) not in seen:
                seen.add(id(rule))
                wanted.append(rule)
    return wanted


def _severity_filter(alert: AlertContract, rules: Sequence[Rule]) -> str | None:
    """Filter firing instances by severity only when the pack uses one alert name for several severities."""
    severities = {rule.severity for rule in rules}
    return alert.severity if len(severities) > 1 else None


def _judge(case: Case, timeline: Timeline, evaluation_s: float) -> CaseVerdict:
    verdict = CaseVerdict(case, timeline)
    times = timeline.firing_at
    early = [t for t in times if t < case.fault_at_s]
    if early:
        verdict.problem = f"fires at {format_duration(early[0])} while the cluster is still healthy"
        return verdict
    if not case.must_fire:
        if times:
            after = times[0] - case.fault_at_s
            verdict.problem = (
                f"fires {format_duration(after)} after the fault although the level stays inside the documented "
                f"threshold ({case.kind} case)"
            )
        return verdict
    if not times:
        verdict.problem = (
            f"never fires within {format_duration(case.hold_s)} of the fault "
            f"(expected by {format_duration(case.latest_fire_s or 0)})"
        )
        return verdict
    first = times[0] - case.fault_at_s
    verdict.fire_after_s = first
    during = [t for t in times if t <= case.revert_at_s]
    after_revert = [t for t in times if t > case.revert_at_s]
    last = (after_revert or during)[-1]
    verdict.resolved_after_s = last + evaluation_s - case.fault_at_s
    if case.earliest_fire_s is not None and first < case.earliest_fire_s:
        verdict.problem = (
            f"fires {format_duration(first)} after the fault, before the documented "
            f"{format_duration(case.earliest_fire_s)}"
        )
    elif case.latest_fire_s is not None and first > case.latest_fire_s:
        verdict.problem = (
            f"fires {format_duration(first)} after the fault, later than the documented bound "
            f"{format_duration(case.latest_fire_s)}"
        )
    elif case.resolve_by_s is not None and after_revert and last - case.revert_at_s > case.resolve_by_s:
        verdict.problem = (
            f"still firing {format_duration(last - case.revert_at_s)} after the revert "
            f"(should resolve within {format_duration(case.resolve_by_s)})"
        )
    return verdict


def prove_behaviour(
    profile: Profile,
    pack: Pack,
    rule_files: Sequence[Path],
    *,
    promtool: Path,
    workdir: Path,
    runner: CommandRunner = run_command,
    workers: int = 2,
) -> dict[str, AlertBehaviour]:
    """Judge every documented alert of ``profile`` against ``pack``; keyed by ``AlertContract.key``."""
    scrape_s = profile.scrape_interval_s
    evaluation_s = profile.evaluation_interval_s
    all_exprs = [rule.expr for group in pack.groups for rule in group.rules]
    warmup = round_up(max(_max_range_s(all_exprs), 300.0) + 2 * scrape_s, scrape_s)
    results: dict[str, AlertBehaviour] = {}
    inputs: list[CaseInput] = []
    planned: list[tuple[AlertBehaviour, Case, str | None]] = []
    recorded: dict[tuple[object, ...], dict[tuple[tuple[str, str], ...], str]] = {}
    for alert in profile.alerts:
        behaviour = results[alert.key] = AlertBehaviour(alert)
        rules = pack.rules_named(alert.name)
        if not rules:
            behaviour.problem = f"the pack has no alerting rule named {alert.name}"
            continue
        severity = _severity_filter(alert, rules)
        own = [r for r in rules if severity is None or r.severity == severity] or rules
        pack_for = max(rule.for_s for rule in own)
        timing = Timing(
            scrape_s=scrape_s,
            evaluation_s=evaluation_s,
            # Undocumented durations are the pack's to choose: judge timing against the pack's own value then.
            for_s=alert.for_.seconds if alert.for_.documented else pack_for,
            for_documented=alert.for_.documented,
            window_s=alert.window.seconds if alert.window else 0.0,
            keep_firing_for_s=max(rule.keep_firing_for_s for rule in own),
        )
        selectors: list[Selector] = selectors_in([r.expr for r in _dependencies(rules, pack)])
        for raw_case in build_cases(alert, timing, warmup):
            case = _on_grid(raw_case, scrape_s)
            key = (
                case.scenario,
                case.kind,
                case.level,
                case.fault_at_s,
                case.hold_s,
                case.horizon_s,
                tuple(sorted(case.fault_timing.items())),
                tuple(selectors),
            )
            series = recorded.get(key)
            if series is None:
                series = recorded[key] = record_case(profile.environment, case, scrape_s, selectors)
            inputs.append(CaseInput(case.id, alert.name, series, case.horizon_s))
            planned.append((behaviour, case, severity))
    timelines = (
        run_cases(
            inputs,
            rule_files,
            promtool=promtool,
            workdir=workdir,
            scrape_s=scrape_s,
            evaluation_s=evaluation_s,
            workers=workers,
            runner=runner,
        )
        if inputs
        else {}
    )
    for behaviour, case, severity in planned:
        verdict = _judge(case, timelines[case.id].only(severity), evaluation_s)
        behaviour.verdicts.append(verdict)
        if case.kind == "fire":
            behaviour.predictions.append(
                Prediction(
                    alert_key=behaviour.alert.key,
                    alert=behaviour.alert.name,
                    scenario_id=case.scenario.id,
                    level=case.level,
                    hold_s=case.hold_s,
                    fire_after_s=verdict.fire_after_s,
                    revert_after_s=case.hold_s,
                    resolved_after_s=verdict.resolved_after_s,
                    labels=tuple(verdict.timeline.label_sets),
                    evaluation_interval_s=evaluation_s,
                    scrape_interval_s=scrape_s,
                )
            )
    return results


def _on_grid(case: Case, step: float) -> Case:
    """Put the fault, its revert and the horizon on the scrape grid so they happen at a sample."""
    from dataclasses import replace

    return replace(case, hold_s=round_up(case.hold_s, step), horizon_s=round_up(case.horizon_s, step))
