"""The verdict of each scenario documented to stay silent (``expect: silent``), at the depths that judge it.

An alert's row has one verdict over all its scenarios, so a silent scenario that behaved would not show at all:
these entries say, per scenario and depth, "stayed silent as documented" or what fired although it must not.
Depth 3 judges the scenario's one ``silent`` case (:mod:`conformance.static.cases`); live, its run must neither
fire nor notify while the fault holds (:func:`conformance.observe.verdict.judge`).
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance.model.durations import format_duration
from conformance.observe.backend import RunResult
from conformance.report.model import SilentVerdict
from conformance.static.behaviour import AlertBehaviour

STAYED_SILENT = "stayed silent as documented"


def behaviour_silent(behaviour: AlertBehaviour) -> list[SilentVerdict]:
    """Depth 3's verdict on each of the alert's silent scenarios, in the profile's order; a scenario depth 3
    could not judge (the alert has no rule to run, ...) is a skip with the reason."""
    cases = {v.case.scenario.id: v for v in behaviour.verdicts if v.case.kind == "silent"}
    found = []
    for scenario in behaviour.alert.scenarios:
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


def live_silent(results: Sequence[RunResult], *, by_run: bool = False) -> list[SilentVerdict]:
    """The live verdict of each silent scenario's run among ``results``. ``by_run``: name each by its run
    (``Alert[severity]:scenario``), for a row over several alerts."""
    found = []
    for result in results:
        run = result.run
        if not run.scenario.silent:
            continue
        verdict = result.verdict()
        name = run.id if by_run else run.scenario.id
        if verdict.outcome == "skip":
            found.append(SilentVerdict(name, "live", "skip", "; ".join(verdict.problems)))
        elif verdict.outcome == "fail":
            found.append(SilentVerdict(name, "live", "fail", "; ".join(verdict.problems)))
        else:
            reverted = result.observation.reverted_s
            until = f"from the fault to its revert at {reverted:.2f}s" if reverted is not None else "while it held"
            found.append(SilentVerdict(name, "live", "pass", f"{STAYED_SILENT}: neither fired nor notified {until}"))
    return found
