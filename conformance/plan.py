"""``--plan``: print every change a run would make for the chosen backend, and make none.

Works with no cluster and no binaries: nothing is resolved, connected or started.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.kube.faults import FaultLookup, load_registry
from conformance.kube.planning import plan_run, render_plan


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
                write(f"  {alert.key}:{scenario.id}: {scenario.fault} on {scenario.target.describe()}")
        return
    registry: FaultLookup = getattr(session, "fault_registry", None) or load_registry()
    for line in render_plan(plan_run(options, profile, pack, registry)):
        write(line)
