"""Depth 3: each documented alert's rule behaviour in virtual time, proven by ``promtool test rules``.

For every alert of a profile, :mod:`conformance.static.cases` gives the fault levels and timelines; the simulated
cluster turns them into the series the exporters would expose; promtool evaluates the pack's own rules on them in
one batch. The verdicts judge the firing timelines against the documented contract, and the firing cases become
the :class:`~conformance.model.prediction.Prediction` the live depths check against.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import promql_parser

from conformance.model.contract import AlertContract
from conformance.model.durations import format_duration
from conformance.model.prediction import Prediction
from conformance.model.profile import Profile
from conformance.model.scenario import describe_matcher
from conformance.model.workloads import Environment
from conformance.packs.loader import write_rule_files
from conformance.packs.model import Pack, Rule
from conformance.packs.selection import select_rules
from conformance.sim import DEFAULT_EPOCH
from conformance.static.basis import JudgedDuration, judged_for, judged_window
from conformance.static.cases import Case, Timing, build_cases, round_up
from conformance.static.clock import ScrapeClock
from conformance.static.closure import Lookback, describe_cycle, graph_of
from conformance.static.closure import longest as closure_longest
from conformance.static.epoch import at_epoch
from conformance.static.grid import Grid, choose_grid
from conformance.static.promtool_runner import Batch, CaseInput, Timeline, run_cases
from conformance.static.series import Selector, SeriesKey, record_case, selectors_in
from conformance.tools import CommandRunner, run_command


@dataclass
class CaseVerdict:
    """One case judged: ``problem`` is None when it behaved as documented."""

    case: Case
    timeline: Timeline
    problem: str | None = None
    fire_after_s: float | None = None
    resolved_after_s: float | None = None
    steady_until_s: float | None = None  # end of the first uninterrupted run of firing evaluations
    #: The scenario's ``silent_for`` judged on this case (it watched the ALERTS they forbid): None when they
    #: stayed silent, else where the pack raised the alert for them. Also part of :attr:`problem`.
    silent_for_problem: str | None = None

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
    #: The ``for`` and window the timing bounds use, documented or the pack's own, and why.
    judged: tuple[JudgedDuration, ...] = ()

    @property
    def ok(self) -> bool:
        return self.problem is None and all(v.ok for v in self.verdicts)

    def reasons(self) -> list[str]:
        reasons = [self.problem] if self.problem else []
        reasons += [f"{v.case.describe()}: {v.problem}" for v in self.verdicts if v.problem]
        return reasons


def _seconds(value: object) -> float:
    return abs(value.total_seconds()) if value is not None and hasattr(value, "total_seconds") else 0.0


def lookback_s(node: object) -> float:
    """How far back an expression reads: range, offset and subquery range add up along each path."""
    if isinstance(node, promql_parser.VectorSelector):
        return _seconds(node.offset)
    if isinstance(node, promql_parser.MatrixSelector):
        return _seconds(node.range) + lookback_s(node.vector_selector)
    if isinstance(node, promql_parser.SubqueryExpr):
        return _seconds(node.range) + _seconds(node.offset) + lookback_s(node.expr)
    if isinstance(node, promql_parser.Call):
        return max((lookback_s(arg) for arg in node.args), default=0.0)
    if isinstance(node, promql_parser.BinaryExpr):
        return max(lookback_s(node.lhs), lookback_s(node.rhs))
    if isinstance(node, promql_parser.AggregateExpr | promql_parser.ParenExpr | promql_parser.UnaryExpr):
        return lookback_s(node.expr)
    return 0.0


def _max_range_s(expressions: Sequence[str]) -> float:
    """The longest stretch of the past any expression reads."""
    return max((lookback_s(promql_parser.parse(expression)) for expression in expressions), default=0.0)


#: The shortest healthy warm-up before any fault: long enough that the cluster's series settle.
MIN_WARMUP_S = 300.0


def warmup_s(pack: Pack, scrape_s: float) -> float:
    """Virtual seconds of healthy cluster for a whole pack: every rule's look-back filled, on the scrape grid.

    Depth 3 and the live twin warm each alert up only for what it reads (:func:`alert_warmup_s`); this is for
    tools that exercise every rule of a pack at once (``benchmarks/mutants.py``).
    """
    longest = _max_range_s([rule.expr for group in pack.groups for rule in group.rules])
    return round_up(max(longest, MIN_WARMUP_S) + 2 * scrape_s, scrape_s)


def dependencies(rules: Sequence[Rule], pack: Pack) -> list[Rule]:
    """The rules plus every rule their expressions depend on: recorded series, and the alerts ``ALERTS`` selects
    (see :mod:`conformance.static.closure`)."""
    return graph_of(pack).closure(rules)


def alert_warmup_s(rules: Sequence[Rule], pack: Pack, scrape_s: float) -> float:
    """Healthy virtual seconds before an alert's faults: its own chain of look-backs filled, on the scrape grid.

    Only what the alert reads counts: a pack's 30-day SLO rules cost nothing to an alert that does not read them.
    """
    longest = closure_longest(graph_of(pack), rules).seconds
    return round_up(max(longest, MIN_WARMUP_S) + 2 * scrape_s, scrape_s)


def inner_alerts(name: str, closure: Sequence[Rule]) -> tuple[str, ...]:
    """The alerts an aggregate reads through ``ALERTS`` (the alerting rules of its closure but itself)."""
    return tuple(sorted({rule.alert for rule in closure if rule.alert and rule.alert != name}))


def silent_for_query(alert: str, case: Case) -> str | None:
    """The ``ALERTS`` series of the case's alert a scenario's ``silent_for`` forbids (pending and firing), as one
    PromQL selection; None when the case has nothing to watch. Only the cases that hold the documented fault as
    documented watch (``fire``, ``immediate``): the others must not raise the alert at all."""
    if not case.scenario.silent_for or not case.must_fire:
        return None
    name = ("alertname", alert)
    return " or ".join(
        "ALERTS" + describe_matcher(dict([name, *matcher.items()])) for matcher in case.scenario.silent_for
    )


def silent_for_problem(case: Case, timeline: Timeline) -> str | None:
    """Where the pack raised the alert for labels the document says the fault leaves silent: for each of the
    scenario's ``silent_for`` matchers (in the profile's order), when an instance matching it was first pending
    and first firing while the fault held."""
    first: dict[tuple[str, str], float] = {}  # (matcher, alertstate) -> seconds after the fault
    for at, labels in timeline.watched:
        matcher = case.scenario.silenced_by(labels)
        if matcher is None or not case.fault_at_s <= at <= case.revert_at_s:
            continue
        key = (describe_matcher(matcher), labels.get("alertstate", "firing"))
        first[key] = min(first.get(key, at - case.fault_at_s), at - case.fault_at_s)
    parts = []
    for matcher in case.scenario.silent_for:
        text = describe_matcher(matcher)
        pending, firing = first.get((text, "pending")), first.get((text, "firing"))
        if firing is not None:
            since = f" (pending from {format_duration(pending)})" if pending is not None and pending < firing else ""
            parts.append(f"fires for {text} {format_duration(firing)} after the fault{since}")
        elif pending is not None:
            parts.append(f"is pending for {text} {format_duration(pending)} after the fault")
    if not parts:
        return None
    return "; ".join(parts) + " although the document says it stays silent for " + ("it" if len(parts) == 1 else "them")


def _inner_changes(case: Case, timeline: Timeline, inner: Sequence[str]) -> str:
    """For an aggregate that failed: which of the alerts it reads fired and when (relative to the fault), so the
    one that changed is named rather than only the aggregate's symptom."""
    if not inner:
        return ""
    parts = []
    for name in inner:
        times = sorted(timeline.inner.get(name, []))
        if not times:
            parts.append(f"{name} never fires")
        elif times[0] < case.fault_at_s:
            parts.append(f"{name} fires at {format_duration(times[0])} while the cluster is still healthy")
        else:
            parts.append(f"{name} fires {format_duration(times[0] - case.fault_at_s)} after the fault")
    return "; the alerts it reads: " + ", ".join(parts)


def _judge(
    case: Case, timeline: Timeline, evaluation_s: float, inner: Sequence[str] = (), basis: str = ""
) -> CaseVerdict:
    verdict = _judge_timeline(case, timeline, evaluation_s, basis)
    if verdict.problem and not timeline.error:
        verdict.problem += _inner_changes(case, timeline, inner)
    if not timeline.error and (raised := silent_for_problem(case, timeline)):
        verdict.silent_for_problem = raised
        verdict.problem = f"{verdict.problem}; {raised}" if verdict.problem else raised
    return verdict


def _judge_timeline(case: Case, timeline: Timeline, evaluation_s: float, basis: str = "") -> CaseVerdict:
    verdict = CaseVerdict(case, timeline)
    if timeline.error:
        verdict.problem = timeline.error
        return verdict
    times = timeline.firing_at
    early = [t for t in times if t < case.fault_at_s]
    if early:
        verdict.problem = f"fires at {format_duration(early[0])} while the cluster is still healthy"
        return verdict
    if not case.must_fire:
        if times:
            after = times[0] - case.fault_at_s
            why = {
                "spread": "the same events are spread over more than the documented window",
                "silent": "the document says this failure must not raise it",
            }.get(case.kind, "the level stays inside the documented threshold")
            verdict.problem = f"fires {format_duration(after)} after the fault although {why}"
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
    breaks = _breaks(during, evaluation_s)
    verdict.steady_until_s = (breaks[0][0] if breaks else during[-1]) - case.fault_at_s
    if case.earliest_fire_s is not None and first < case.earliest_fire_s:
        documented_for = case.earliest_fire_s - case.visible_after_s
        seen = f" from the first evaluation that can see the fault (+{format_duration(case.visible_after_s)})"
        verdict.problem = (
            f"fires {format_duration(first)} after the fault, before the documented `for` "
            f"{format_duration(documented_for)}{seen if case.visible_after_s else ''}"
        )
    elif case.latest_fire_s is not None and first > case.latest_fire_s:
        basis = basis or ("documented" if case.bound_documented else "the pack's own for/window (not documented)")
        verdict.problem = (
            f"fires {format_duration(first)} after the fault, later than the bound "
            f"{format_duration(case.latest_fire_s)} (from {basis})"
        )
    elif case.sustain_s is not None and (stopped := _stopped_while_held(case, during, breaks, evaluation_s)):
        verdict.problem = stopped
    elif case.resolve_by_s is not None and after_revert and last - case.revert_at_s > case.resolve_by_s:
        verdict.problem = (
            f"still firing {format_duration(last - case.revert_at_s)} after the revert "
            f"(should resolve within {format_duration(case.resolve_by_s)})"
        )
    return verdict


def _breaks(times: Sequence[float], evaluation_s: float) -> list[tuple[float, float]]:
    """``(last firing, next firing)`` for every evaluation at which a firing alert was not firing."""
    return [(before, after) for before, after in pairwise(times) if after - before > evaluation_s + 1e-6]


def _stopped_while_held(
    case: Case, during: Sequence[float], breaks: Sequence[tuple[float, float]], evaluation_s: float
) -> str | None:
    """Why the alert did not stay firing from its first firing to the revert, or None when it did."""
    first = during[0]
    fired = f"fired {format_duration(first - case.fault_at_s)} after the fault, then resolved at +"
    held = f"while the fault still holds (held {format_duration(case.hold_s)})"
    # Once the fault's own mechanics may heal what the alert reads (a lost node's pods started elsewhere),
    # stopping is what Kubernetes does, not a flap of the pack.
    heals = case.fault_at_s + case.heals_after_s if case.heals_after_s is not None else float("inf")
    if breaks and breaks[0][0] < heals:
        stop, again = breaks[0]
        return (
            f"{fired}{format_duration(stop + evaluation_s - first)} {held}; "
            f"fires again at +{format_duration(again - first)}"
        )
    if during[-1] < min(case.revert_at_s, heals) - evaluation_s - 1e-6:
        return f"{fired}{format_duration(during[-1] + evaluation_s - first)} {held}"
    return None


@dataclass
class _Planned:
    behaviour: AlertBehaviour
    case: Case
    recording: int  # index into the list of distinct recordings


@dataclass
class BehaviourPlan:
    """Every case depth 3 will run, before anything runs: what :mod:`conformance.static.cost` estimates and
    :func:`prove_behaviour` then runs. ``needs`` is each alert's dependency closure, ``lookbacks`` how far back
    it reads and why, ``grids`` the time grid its cases run on (:mod:`conformance.static.grid`), ``recordings`` the
    distinct cases to simulate with the selectors they keep and the clock they are scraped with."""

    results: dict[str, AlertBehaviour] = field(default_factory=dict)
    planned: list[_Planned] = field(default_factory=list)
    recordings: list[tuple[Case, tuple[Selector, ...], ScrapeClock]] = field(default_factory=list)
    needs: dict[str, list[Rule]] = field(default_factory=dict)
    lookbacks: dict[str, Lookback] = field(default_factory=dict)
    grids: dict[str, Grid] = field(default_factory=dict)
    fired_by: dict[str, Callable[[Mapping[str, str]], bool] | None] = field(default_factory=dict)


def plan_behaviour(profile: Profile, pack: Pack) -> BehaviourPlan:
    """Select each documented alert's rules, find their closure and plan their cases; nothing is simulated."""
    scrape_s = profile.scrape_interval_s
    graph = graph_of(pack)
    plan = BehaviourPlan()
    recording_index: dict[tuple[object, ...], int] = {}
    for alert in profile.alerts:
        behaviour = plan.results[alert.key] = AlertBehaviour(alert)
        selection = select_rules(pack, alert)
        if not selection.named:
            behaviour.problem = f"the pack has no alerting rule named {alert.name}"
            continue
        if not selection.rules and selection.by_severity:
            behaviour.problem = selection.problem()  # rule_labels select nothing: there is nothing to judge
            continue
        # A wrong severity (depth 1's finding) is judged on every rule of the name, to say how they behave.
        rules = own = list(selection.rules or selection.named)
        cycle = graph.cycle(rules)
        if cycle is not None:
            behaviour.problem = describe_cycle(cycle)
            continue
        plan.fired_by[alert.key] = selection.fired_by_selected if selection.rules else None
        plan.lookbacks[alert.key] = closure_longest(graph, rules)
        grid = plan.grids[alert.key] = choose_grid(
            plan.lookbacks[alert.key].seconds, scrape_s, profile.evaluation_interval_s
        )
        clock = grid.clock
        warmup = alert_warmup_s(rules, pack, scrape_s)
        # Undocumented durations are the pack's to choose: timing is judged against the pack's own values then,
        # and the report says which value was used and why (conformance.static.basis).
        closure = dependencies(rules, pack)
        longest = max(closure, key=lambda r: _max_range_s([r.expr]), default=None)
        window_s = _max_range_s([r.expr for r in closure])
        behaviour.judged = (
            judged_for(alert, own),
            judged_window(alert, window_s, longest if window_s else None),
        )
        timing = Timing(
            scrape_s=scrape_s,
            evaluation_s=grid.evaluation_s,
            for_s=behaviour.judged[0].seconds,
            for_documented=alert.for_.documented,
            window_s=behaviour.judged[1].seconds,
            window_documented=alert.window is not None and alert.window.documented,
            keep_firing_for_s=max(rule.keep_firing_for_s for rule in own),
            first_scrape_s=clock.offset_s - clock.jitter_s,
            reads_trend=any(_reads_trend(rule.expr) for rule in closure),
        )
        plan.needs[alert.key] = closure
        selectors = tuple(selectors_in([r.expr for r in plan.needs[alert.key]]))
        for raw_case in build_cases(alert, timing, warmup):
            case = _on_grid(raw_case, scrape_s)
            key = (
                repr(case.scenario),
                case.kind,
                case.level,
                case.fault_at_s,
                case.hold_s,
                case.horizon_s,
                tuple(sorted(case.fault_timing.items())),
                selectors,
                clock,
            )
            if key not in recording_index:
                recording_index[key] = len(plan.recordings)
                plan.recordings.append((case, selectors, clock))
            plan.planned.append(_Planned(behaviour, case, recording_index[key]))
    return plan


def prove_behaviour(
    profile: Profile,
    pack: Pack,
    *,
    promtool: Path,
    workdir: Path,
    runner: CommandRunner = run_command,
    workers: int = 2,
    alerts_per_batch: int = 3,
    plan: BehaviourPlan | None = None,
) -> dict[str, AlertBehaviour]:
    """Judge every documented alert of ``profile`` against ``pack``; keyed by ``AlertContract.key``.

    Three stages: plan every case (or take ``plan``); record each distinct case's series once (in ``workers``
    processes); run promtool on batches of a few alerts each, every batch with only the rules its alerts depend on.
    """
    plan = plan or plan_behaviour(profile, pack)
    series = _record_all(profile, plan.recordings, workers)
    batches = _batches(plan, series, pack, workdir, alerts_per_batch)
    timelines = (
        run_cases(
            batches,
            promtool=promtool,
            workdir=workdir,
            input_step_s=ScrapeClock.realistic(profile.scrape_interval_s).step_s,
            evaluation_s=profile.evaluation_interval_s,
            workers=workers,
            runner=runner,
        )
        if batches
        else {}
    )
    for item in plan.planned:
        keep = plan.fired_by[item.behaviour.alert.key]
        inner = inner_alerts(item.behaviour.alert.name, plan.needs[item.behaviour.alert.key])
        basis = ", ".join(
            f"{value.name} {format_duration(value.seconds)} "
            + ("documented" if value.documented else "the pack's own, not documented")
            for value in item.behaviour.judged
        )
        evaluation_s = plan.grids[item.behaviour.alert.key].evaluation_s
        verdict = _judge(item.case, timelines[item.case.id].only(keep), evaluation_s, inner, basis)
        item.behaviour.verdicts.append(verdict)
        if item.case.kind in ("fire", "silent"):
            item.behaviour.predictions.append(_prediction(item.behaviour.alert, item.case, verdict, profile))
    return plan.results


#: Functions that turn a gauge into how fast it moves: they go back to zero once a fault's level holds still.
TREND_FUNCTIONS = frozenset({"predict_linear", "deriv", "delta", "idelta"})


def _reads_trend(expr: str) -> bool:
    found = False

    def visit(node: Any) -> None:
        nonlocal found
        if isinstance(node, promql_parser.Call) and node.func.name in TREND_FUNCTIONS:
            found = True

    try:
        promql_parser.walk(promql_parser.parse(expr), pre_visit=visit)
    except ValueError:
        return False
    return found


def _prediction(alert: AlertContract, case: Case, verdict: CaseVerdict, profile: Profile) -> Prediction:
    return Prediction(
        alert_key=alert.key,
        alert=alert.name,
        scenario_id=case.scenario.id,
        level=case.level,
        hold_s=case.hold_s,
        fire_after_s=verdict.fire_after_s,
        revert_after_s=case.hold_s,
        resolved_after_s=verdict.resolved_after_s,
        labels=tuple(verdict.timeline.label_sets),
        evaluation_interval_s=profile.evaluation_interval_s,
        scrape_interval_s=profile.scrape_interval_s,
        sustain_s=case.sustain_s,
        steady_until_s=verdict.steady_until_s,
        heals_after_s=case.heals_after_s,
        fault_timing=tuple(sorted(case.fault_timing.items())),
    )


_RecordJob = tuple[Environment, Case, tuple[Selector, ...], ScrapeClock]


def _record_one(job: _RecordJob) -> dict[SeriesKey, str]:
    environment, case, selectors, clock = job
    return record_case(environment, case, clock, selectors)


def _record_all(
    profile: Profile, recordings: Sequence[tuple[Case, tuple[Selector, ...], ScrapeClock]], workers: int
) -> list[dict[SeriesKey, str]]:
    """Every distinct case's series; simulation is CPU-bound Python, so several cases go to other processes.

    A case's cost follows what changes in it, not its length (see :func:`record_case`): a long healthy warm-up
    is a few samples, so it is not shared between cases.
    """
    jobs: list[_RecordJob] = [(profile.environment, case, sel, clock) for case, sel, clock in recordings]
    methods = multiprocessing.get_all_start_methods()
    if workers <= 1 or len(jobs) < 4 or "fork" not in methods:
        return [_record_one(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_record_one, jobs, chunksize=max(1, len(jobs) // (4 * workers))))


def _batches(
    plan: BehaviourPlan,
    series: Sequence[dict[SeriesKey, str]],
    pack: Pack,
    workdir: Path,
    alerts_per_batch: int,
) -> list[Batch]:
    """Group cases by alert into batches, each with rule files holding only the rules its alerts need and the
    evaluation interval of their grid."""
    needs = plan.needs
    by_alert: dict[str, list[_Planned]] = {}
    for item in plan.planned:
        by_alert.setdefault(item.behaviour.alert.key, []).append(item)
    chunks = batch_chunks(list(by_alert), needs, alerts_per_batch, plan.grids)
    batches = []
    for number, chunk in enumerate(chunks):
        needed = {id(rule) for key in chunk for rule in needs[key]}
        subset = Pack(
            root=pack.root,
            groups=tuple(
                replace(
                    group,
                    rules=tuple(
                        replace(rule, expr=at_epoch(rule.expr, DEFAULT_EPOCH))
                        for rule in group.rules
                        if id(rule) in needed
                    ),
                )
                for group in pack.groups
                if any(id(rule) in needed for rule in group.rules)
            ),
            setups=(),
            files=pack.files,
        )
        rule_files = tuple(write_rule_files(subset, workdir / f"rules-{number}"))
        cases = tuple(
            CaseInput(
                item.case.id,
                item.behaviour.alert.name,
                series[item.recording],
                item.case.horizon_s,
                inner_alerts(item.behaviour.alert.name, needs[key]),
                silent_for_query(item.behaviour.alert.name, item.case),
                plan.grids[key].clock.step_s,
            )
            for key in chunk
            for item in by_alert[key]
        )
        batches.append(Batch(rule_files, cases, plan.grids[chunk[0]].evaluation_s))
    # Longest first, so the workers finish together: promtool's time grows with checks and series.
    return sorted(batches, key=lambda batch: -sum(len(c.series) * c.horizon_s for c in batch.cases))


def batch_chunks(
    keys: Sequence[str],
    needs: Mapping[str, Sequence[Rule]],
    alerts_per_batch: int,
    grids: Mapping[str, Grid] | None = None,
) -> list[list[str]]:
    """Which alerts share a promtool run (every case of a run evaluates every rule of the run).

    Alerts needing many rules (aggregates over ALERTS need them all) run alone, so their companions in a batch
    are not evaluated against the whole pack. A test file has one evaluation interval: alerts on different grids
    (``grids``) never share a run.
    """
    heavy = [key for key in keys if len(needs[key]) > alerts_per_batch]
    light = [key for key in keys if key not in heavy]
    by_interval: dict[float, list[str]] = {}
    for key in light:
        by_interval.setdefault(grids[key].evaluation_s if grids else 0.0, []).append(key)
    return [[key] for key in heavy] + [
        same[start : start + alerts_per_batch]
        for same in by_interval.values()
        for start in range(0, len(same), alerts_per_batch)
    ]


def _on_grid(case: Case, step: float) -> Case:
    """Put the fault, its revert and the horizon on the scrape grid so they happen at a sample."""
    return replace(case, hold_s=round_up(case.hold_s, step), horizon_s=round_up(case.horizon_s, step))
