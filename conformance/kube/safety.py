"""The safety rules of the Kubernetes backends, checked before anything is touched.

On an existing cluster (``--backend cluster``):

* any disruptive fault needs ``--allow-disruption``;
* a fault on a node needs ``--allow-nodes`` (and ``--allow-disruption``);
* a fault outside the namespaces the suite creates needs that namespace in ``--allow-namespace``;
* ``kube-system`` is never touched, allowed or not (on kind too).

:func:`check_safety` lists *every* refused fault in one :class:`SafetyError`, so a user fixes the command line
once. It reads nothing from the cluster and writes nothing: it runs before the first API call that changes state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from conformance.errors import SafetyError
from conformance.kube.faults import Injector
from conformance.kube.placement import PROTECTED_NAMESPACES, Placement
from conformance.options import Options


@dataclass(frozen=True)
class PlannedFault:
    """One fault the run would apply: which alert scenario it serves and its injector."""

    run_id: str
    injector: Injector


def refusals(options: Options, placement: Placement, faults: Sequence[PlannedFault]) -> list[str]:
    """One line per refused fault (empty: everything is allowed)."""
    lines: list[str] = []
    for planned in faults:
        injector, target = planned.injector, planned.injector.target
        what = f"{planned.run_id}: {injector.fault} on {target.describe()}"
        namespaces = {target.namespace} | {p.namespace for p in injector.permissions()}
        if namespaces & PROTECTED_NAMESPACES:
            lines.append(f"{what}: kube-system is never touched")
            continue
        if placement.backend != "cluster":
            continue
        reasons: list[str] = []
        if injector.disruptive and not options.allow_disruption:
            reasons.append("it is disruptive and --allow-disruption is not given")
        if injector.node_fault and not options.allow_nodes:
            reasons.append("it acts on a node and --allow-nodes is not given")
        outside = sorted(
            ns
            for ns in namespaces
            if ns is not None and ns not in placement.standin_namespaces and ns not in options.allow_namespaces
        )
        if outside:
            reasons.append(f"namespace {', '.join(outside)} is not the suite's and not in --allow-namespace")
        if reasons:
            lines.append(f"{what}: " + "; ".join(reasons))
    return lines


def check_safety(options: Options, placement: Placement, faults: Sequence[PlannedFault]) -> None:
    """Raise :class:`SafetyError` listing every refused fault; nothing has been touched when it does."""
    lines = refusals(options, placement, faults)
    if lines:
        raise SafetyError(
            f"refusing to run: {len(lines)} fault(s) are not allowed on this cluster; nothing was touched.\n  "
            + "\n  ".join(lines)
        )


def check_namespace(namespace: str | None) -> None:
    """Guard for every write the backends make themselves (stand-ins, rules, capture)."""
    if namespace in PROTECTED_NAMESPACES:
        raise SafetyError(f"refusing to write into {namespace}: kube-system is never touched")
