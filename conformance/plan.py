"""``--plan``: print every change a run would make for the chosen backend, and make none.

Works with no cluster and no binaries: nothing is connected or started. The kind and cluster plans end with a
duration estimate (:mod:`conformance.kube.estimate`) when depth 3's predictions can be had, which needs
``promtool``; without it the plan says so in place of the estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.errors import ConformanceError
from conformance.kube.estimate import RunEstimate, estimate_run, healthy_period_s
from conformance.kube.faults import FaultLookup, load_registry
from conformance.kube.planning import RunPlan, plan_run, render_plan
from conformance.observe.expectations import expectation_for


def print_plan(session: Any, write: Callable[[str], None] = print) -> None:
    """Write the plan of ``session`` (a :class:`conformance.session.ConformanceSession`) line by line."""
    options, profile, pack = session.options, session.profile, session.pack
    if options.backend == "twin":
        write("alert-conformance plan, backend twin (nothing has been touched)")
        write(
            "  no cluster is touched: Prometheus and Alertmanager run as subprocesses on 127.0.0.1 against a "
            "simulated cluster; faults are state changes of that simulation"
        )
        for alert in profile.alerts:
            for scenario in alert.scenarios:
                expect = " (must stay silent)" if scenario.silent else ""
                write(f"  {alert.key}:{scenario.id}: {scenario.fault} on {scenario.target.describe()}{expect}")
                write(f"      revert: {_twin_revert(scenario.kind.burst, scenario.always)}")
        return
    registry: FaultLookup = getattr(session, "fault_registry", None) or load_registry()
    plan = plan_run(options, profile, pack, registry)
    for line in render_plan(plan, estimate(session, plan)):
        write(line)


def _twin_revert(burst: bool, always: bool) -> str:
    if always:
        return "nothing to undo (no fault)"
    if burst:
        return "the simulated events stop; what they left (restarts, recreated pods) stays, as on a cluster"
    return "the simulated state set back to healthy once the alert has notified (at the latest when overdue)"


def estimate(session: Any, plan: RunPlan) -> RunEstimate | str:
    """The run's duration estimate from depth 3's predictions (real time), or why there is none."""
    try:
        runs = session.scenario_runs()
    except ConformanceError as error:
        return f"not estimated: it needs depth 3's predictions ({str(error).splitlines()[0]})"
    expectations = {run.id: expectation_for(run, session.profile, session.pack, 1.0) for run in runs}
    waves = [[step.run_id for step in wave] for wave in plan.waves]
    return estimate_run(waves, expectations, healthy_period_s(session.profile))
