"""The verdict of each scenario documented to stay silent (``expect: silent``), at the depths that judge it.

An alert's row has one verdict over all its scenarios, so a silent scenario that behaved would not show at all:
these entries say, per scenario and depth, "stayed silent as documented" or what fired although it must not.
Depth 3 judges the scenario's one ``silent`` case (:mod:`conformance.static.cases`); live, its run must neither
fire nor notify while the fault holds (:func:`conformance.observe.verdict.judge`).

A firing scenario with ``silent_for`` (the fault raises the alert for some objects, and the document says it
stays silent for others) has an entry too, named after the scenario and its matchers: depth 3 judges its fire
case's watch of ``ALERTS``, live its run's instances matching them while the fault held.
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance.model.durations import format_duration
from conformance.model.scenario import Scenario, describe_matcher
from conformance.observe.backend import RunResult
from conformance.observe.verdict import silent_for_problems
from conformance.report.model import SilentVerdict
from conformance.static.behaviour import AlertBehaviour, CaseVerdict

STAYED_SILENT = "stayed silent as documented"


def behaviour_silent(behaviour: AlertBehaviour) -> list[SilentVerdict]:
    """Depth 3's verdict on each of the alert's silent scenarios, in the profile's order; a scenario depth 3
    could not judge (the alert has no rule to run, ...) is a skip with the reason."""
    cases = {v.case.scenario.id: v for v in behaviour.verdicts if v.case.kind == "silent"}
    fire_cases = {v.case.scenario.id: v for v in behaviour.verdicts if v.case.kind == "fire"}
    found = []
    for scenario in behaviour.alert.scenarios:
        if scenario.silent_for:
            found.append(_behaviour_silent_for(scenario, fire_cases.get(scenario.id), behaviour.problem))
        if not scenario.silent:
            continue
        judged = cases.get(scenario.id)
        if judged is None:
            reason = behaviour.problem or "depth 3 made no case for it"
            found.append(SilentVerdict(scenario.id, "behaviour", "skip", reason))
        elif judged.problem is None:
            held = format_duration(judged.case.hold_s)
            detail = f"{STAYED_SILENT}: never fired in the {held} the fault was held, nor after its revert"
            found.append(SilentVerdict(scenario.id, "behaviour", "pass", detail))
        else:
            found.append(SilentVerdict(scenario.id, "behaviour", "fail", judged.problem))
    return found


def silent_for_name(name: str, scenario: Scenario) -> str:
    """The entry of a scenario's ``silent_for``: ``system-worker-lost, silent for {deployment="x"}, ...``."""
    return f"{name}, silent for " + ", ".join(describe_matcher(matcher) for matcher in scenario.silent_for)


def _behaviour_silent_for(scenario: Scenario, judged: CaseVerdict | None, problem: str | None) -> SilentVerdict:
    name = silent_for_name(scenario.id, scenario)
    if judged is None or judged.timeline.error:
        reason = (judged.timeline.error if judged else None) or problem or "depth 3 made no fire case for it"
        return SilentVerdict(name, "behaviour", "skip", reason)
    if judged.silent_for_problem is not None:
        return SilentVerdict(name, "behaviour", "fail", judged.silent_for_problem)
    held = format_duration(judged.case.hold_s)
    detail = f"{STAYED_SILENT}: neither pending nor firing for them in the {held} the fault was held"
    return SilentVerdict(name, "behaviour", "pass", detail)


def live_silent_for(result: RunResult, name: str) -> SilentVerdict:
    """The live verdict on a firing run's ``silent_for``, named ``<name>, silent for <matchers>``."""
    observation = result.observation
    name = silent_for_name(name, result.run.scenario)
    if observation.skipped or not observation.fault_applied:
        return SilentVerdict(name, "live", "skip", observation.skipped or "the fault was not applied")
    problems = silent_for_problems(observation)
    if problems:
        return SilentVerdict(name, "live", "fail", "; ".join(problems))
    reverted = observation.reverted_s
    until = f"from the fault to its revert at {reverted:.2f}s" if reverted is not None else "while it held"
    detail = f"{STAYED_SILENT}: neither pending, firing nor notified for them {until}"
    return SilentVerdict(name, "live", "pass", detail)


def live_silent(results: Sequence[RunResult], *, by_run: bool = False) -> list[SilentVerdict]:
    """The live verdict of each silent scenario's run among ``results``. ``by_run``: name each by its run
    (``Alert[severity]:scenario``), for a row over several alerts."""
    found = []
    for result in results:
        run = result.run
        name = run.id if by_run else run.scenario.id
        if run.scenario.silent_for:
            found.append(live_silent_for(result, name))
        if not run.scenario.silent:
            continue
        verdict = result.verdict()
        if verdict.outcome == "skip":
            found.append(SilentVerdict(name, "live", "skip", "; ".join(verdict.problems)))
        elif verdict.outcome == "fail":
            found.append(SilentVerdict(name, "live", "fail", "; ".join(verdict.problems)))
        else:
            reverted = result.observation.reverted_s
            until = f"from the fault to its revert at {reverted:.2f}s" if reverted is not None else "while it held"
            found.append(SilentVerdict(name, "live", "pass", f"{STAYED_SILENT}: neither fired nor notified {until}"))
    return found
