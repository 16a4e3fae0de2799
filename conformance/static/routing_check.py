"""Depth 4: each documented alert, with the labels it really fires with, reaches the documented receiver in every
documented Alertmanager set-up of the pack, with the notification settings the document states for that set-up
(``group_wait`` ..., ``send_resolved``) in effect on the route that delivers it.

The labels come from depth 3 (the firing instances promtool reported), so what is routed is what the pack's rules
really produce on the documented failure, namespace and all. Routing is evaluated in-process for every label set
at once and checked against ``amtool config routes test`` on the same sets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conformance.model.contract import AlertContract, RoutingSetup
from conformance.packs.model import AlertmanagerSetup, Pack
from conformance.packs.selection import select_rules
from conformance.routing import amtool as amtool_routing
from conformance.routing.defaults import send_resolved_of
from conformance.routing.explain import explain_route
from conformance.routing.inhibit import muting_rules
from conformance.routing.settings import differences
from conformance.routing.tree import route_alert
from conformance.static.behaviour import AlertBehaviour
from conformance.tools import CommandRunner, run_command


@dataclass
class RoutingResult:
    alert: AlertContract
    setup: RoutingSetup
    expected: str
    label_sets: list[dict[str, str]] = field(default_factory=list)
    reached: list[list[str]] = field(default_factory=list)
    labels_from: str = "depth 3 (firing instances)"
    problems: list[str] = field(default_factory=list)
    #: What is true but no failure: the documented receiver has no integration in this pack, so nobody is
    #: notified until one is configured (kube-prometheus ships its receivers empty, for the user to fill); an
    #: inhibit rule can mute the alert (kube-prometheus's InfoInhibitor mutes info alerts on their own).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class RoutingNote:
    """One of depth 4's notes on one documented alert in one set-up (see :attr:`RoutingResult.notes`)."""

    alert: str  # the alert's label (name, and severity or rule labels where the name is not enough)
    setup: str
    note: str

    def describe(self) -> str:
        return f"{self.alert} ({self.setup}): {self.note}"

    def to_json(self) -> dict[str, str]:
        return {"alert": self.alert, "setup": self.setup, "note": self.note}


def routing_notes(results: Mapping[tuple[str, str], RoutingResult]) -> list[RoutingNote]:
    """Every note of depth 4's results, ordered by alert and set-up: what the terminal summary lists (the first
    few) and the report carries (all of them)."""
    return [
        RoutingNote(result.alert.label, setup, note)
        for (_, setup), result in sorted(results.items())
        for note in result.notes
    ]


def _label_sets(alert: AlertContract, pack: Pack, behaviour: AlertBehaviour | None) -> tuple[list[dict[str, str]], str]:
    if behaviour is not None:
        sets = [labels for prediction in behaviour.predictions for labels in prediction.labels]
        if sets:
            unique: list[dict[str, str]] = []
            for labels in sets:
                if labels not in unique:
                    unique.append(labels)
            return unique, "depth 3 (firing instances)"
    selection = select_rules(pack, alert)
    rules = selection.rules or selection.named
    return [
        {"alertname": alert.name, **rule.labels} for rule in rules
    ], "the rule's own labels (it never fired in depth 3)"


def _integrations(setup: AlertmanagerSetup, generated: str) -> tuple[str, ...]:
    """The integrations (email, webhook ...) of the receiver named ``generated`` in ``setup``'s config."""
    for definition in setup.config.get("receivers") or []:
        if isinstance(definition, dict) and definition.get("name") == generated:
            return send_resolved_of(definition)[1]
    return ()


def _check_notifies(
    alert: AlertContract,
    setup: AlertmanagerSetup,
    reached: Sequence[str],
    labels: Mapping[str, str],
    result: RoutingResult,
) -> None:
    """An alert documented to notify nobody reaches only receivers without integration (a failure otherwise). An
    alert that must notify and reaches its documented receiver without integration gets a note: the pack's
    receivers may be placeholders its users fill in (kube-prometheus ships them empty)."""
    shown = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for generated in reached:
        integrations = _integrations(setup, generated)
        written = setup.written_name(generated)
        if not alert.notifies and integrations:
            result.problems.append(
                f"{{{shown}}} reaches {written} ({', '.join(integrations)}), although the document says this alert "
                "notifies nobody"
            )
        elif alert.notifies and not integrations and written == result.expected:
            note = f"reaches {written}, which has no integration in this pack: nobody is notified until one is set"
            if note not in result.notes:
                result.notes.append(note)


def _written(setup: AlertmanagerSetup, receivers: Sequence[str]) -> list[str]:
    return [setup.written_name(name) for name in receivers]


def check_routing(
    alerts: Sequence[AlertContract],
    routing: Sequence[RoutingSetup],
    pack: Pack,
    behaviour: Mapping[str, AlertBehaviour],
    config_files: Mapping[str, Path],
    *,
    amtool: Path | None,
    runner: CommandRunner = run_command,
    amtool_sample: int = 200,
) -> dict[tuple[str, str], RoutingResult]:
    """Results keyed by (alert key, set-up name). ``config_files`` maps pack set-up form to its written file."""
    results: dict[tuple[str, str], RoutingResult] = {}
    batches: dict[str, list[tuple[RoutingResult, int]]] = {}
    for alert in alerts:
        for documented in routing:
            expected = alert.receivers.get(documented.name, documented.receiver)
            result = results[(alert.key, documented.name)] = RoutingResult(alert, documented, expected)
            setup = pack.setup(documented.form)
            if setup is None:
                result.problems.append(
                    f"the pack has no Alertmanager configuration of form {documented.form} "
                    f"(documented in {documented.source.seed}: {documented.source.section})"
                )
                continue
            result.label_sets, result.labels_from = _label_sets(alert, pack, behaviour.get(alert.key))
            generated = setup.generated_name(expected)
            defined = [str(r.get("name")) for r in setup.config.get("receivers") or [] if isinstance(r, dict)]
            if generated not in defined:
                result.problems.append(
                    f"the documented receiver {expected} is not defined in {setup.source} "
                    f"(its receivers: {', '.join(setup.written_name(name) for name in defined) or 'none'})"
                )
                continue
            for index, labels in enumerate(result.label_sets):
                matches = route_alert(setup.config, labels)
                reached = [match.receiver for match in matches]
                result.reached.append(_written(setup, reached))
                if expected not in result.reached[-1] and expected not in reached:
                    why = explain_route(setup.config, labels, generated)
                    shown = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
                    result.problems.append(
                        f"{{{shown}}} reaches {', '.join(result.reached[-1]) or 'no receiver'}, not {expected}: {why}"
                    )
                _check_notifies(alert, setup, reached, labels, result)
                for muting in muting_rules(setup.config, labels):
                    if muting not in result.notes:
                        result.notes.append(muting)
                documented_settings = documented.documented_settings()
                for match in matches if documented_settings else []:
                    if match.receiver == generated:
                        for problem in differences(documented_settings, setup.config, match.path, generated, expected):
                            line = f"{problem} ({match.route_name})"
                            if line not in result.problems:
                                result.problems.append(line)
                batches.setdefault(documented.form, []).append((result, index))
    if amtool is not None:
        _cross_check(pack, batches, config_files, amtool, runner, amtool_sample)
    return results


def _cross_check(
    pack: Pack,
    batches: Mapping[str, list[tuple[RoutingResult, int]]],
    config_files: Mapping[str, Path],
    amtool: Path,
    runner: CommandRunner,
    sample: int,
) -> None:
    """amtool must agree with the in-process routing; a disagreement is reported on the alert it concerns."""
    for form, entries in batches.items():
        path = config_files.get(form)
        setup = pack.setup(form)  # type: ignore[arg-type]
        if path is None or setup is None:
            continue
        chosen = entries[:sample]
        label_sets = [result.label_sets[index] for result, index in chosen]
        answers = amtool_routing.amtool_routes(path, label_sets, amtool=amtool, runner=runner)
        for (result, index), answer in zip(chosen, answers, strict=True):
            mine = sorted(result.reached[index])
            theirs = sorted(_written(setup, answer))
            if mine != theirs:
                result.problems.append(
                    f"in-process routing ({', '.join(mine)}) disagrees with amtool ({', '.join(theirs)}) "
                    f"for {result.label_sets[index]}"
                )
