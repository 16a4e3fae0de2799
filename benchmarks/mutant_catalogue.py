"""Mutants of a reference pack, each one change, with the verdict the profile demands written down beforehand.

Classes a static proof must kill (issue 9's holes), generated from the profile and the pack, never by name:

* ``for``: a documented ``for`` shortened by one evaluation interval, halved, or zeroed;
* ``counter``: ``changes()`` over a window replaced by ``increase()`` or ``delta()``, which extrapolate;
* ``sustain``: an aggregate over ``ALERTS`` that no longer excludes itself; a state comparison made
  edge-triggered (``changes((x)[<for + 2m>:]) > 0``), which fires on the change and resolves while the fault
  still holds;
* ``routing``: each documented notification setting (group_wait ..., group_by, send_resolved) changed on the
  route that delivers the alerts, and group_wait changed for one alert only through a route of its own;
* ``aggregation``: a total (``sum`` without grouping) measured per object (``max``, ``sum by (pod)``, ``avg``).

Rewrites the documents allow, which must pass:

* ``undocumented-for``: a ``for`` the document does not state, doubled and halved;
* ``inclusive``: ``>=`` for ``>`` (``<=`` for ``<``) on a continuous, non-integer threshold;
* ``redundant-matcher``: a label matcher dropped whose removal changes no series the selector reads in the
  simulated cluster;
* ``undocumented-setting``: a notification setting the document does not state, changed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import promql_parser

from conformance.model.contract import SETTING_NAMES, AlertContract, RoutingSetup
from conformance.model.durations import format_duration
from conformance.model.profile import Profile
from conformance.packs.model import AlertmanagerSetup, Pack, Rule
from conformance.routing.settings import integrations, route_settings
from conformance.routing.tree import route_alert
from conformance.static.contract import comparisons
from conformance.static.series import Selector, SeriesKey, selectors_in

Verdict = Literal["kill", "pass"]
RuleKey = tuple[int, int]  # (group index, rule index) in the pack

KILL_CLASSES = ("for", "counter", "sustain", "routing", "aggregation")
PASS_CLASSES = ("undocumented-for", "inclusive", "redundant-matcher", "undocumented-setting")
EDGE_OUTLASTS_FOR_S = 120.0


@dataclass(frozen=True)
class Mutant:
    """One change to a pack: rules replaced, or one Alertmanager set-up's config replaced."""

    profile: str
    verdict: Verdict
    cls: str
    what: str
    alerts: tuple[str, ...]  # the alert keys whose verdicts decide (all of the profile for a set-up change)
    rules: Mapping[RuleKey, Rule] = field(default_factory=dict)
    setup: tuple[str, dict[str, Any]] | None = None  # (form, new config)

    def apply(self, pack: Pack) -> Pack:
        groups = tuple(
            replace(group, rules=tuple(self.rules.get((g, r), rule) for r, rule in enumerate(group.rules)))
            for g, group in enumerate(pack.groups)
        )
        setups = pack.setups
        if self.setup is not None:
            form, config = self.setup
            setups = tuple(replace(s, config=config) if s.form == form else s for s in setups)
        return replace(pack, groups=groups, setups=setups)


@dataclass(frozen=True)
class Context:
    """What generation reads besides the profile and the pack."""

    profile: Profile
    pack: Pack
    healthy: Mapping[SeriesKey, float]  # the healthy cluster's stored samples, every family
    labels: Mapping[str, list[dict[str, str]]]  # per alert key, the label sets it fires with (depth 3)


def mutants(context: Context) -> list[Mutant]:
    found: list[Mutant] = []
    for make in (_for, _counter, _self_exclusion, _edge, _aggregation, _inclusive, _redundant_matchers):
        found += list(make(context))
    found += list(_routing(context))
    return found


def _owned_rules(context: Context) -> Iterator[tuple[AlertContract, RuleKey, Rule]]:
    """Every documented alert's own rules, except alerts whose reference pack is a known finding."""
    for alert in context.profile.alerts:
        if alert.expected_failure:
            continue
        for g, group in enumerate(context.pack.groups):
            for r, rule in enumerate(group.rules):
                if rule.alert == alert.name and rule.severity == alert.severity:
                    yield alert, (g, r), rule


def _rule_mutant(
    context: Context, verdict: Verdict, cls: str, alert: AlertContract, key: RuleKey, rule: Rule, what: str
) -> Mutant:
    promql_parser.parse(rule.expr)  # every mutant is valid PromQL: a kill must not come from a load error
    return Mutant(context.profile.name, verdict, cls, f"{alert.key}: {what}", (alert.key,), {key: rule})


def _for(context: Context) -> Iterator[Mutant]:
    for alert, key, rule in _owned_rules(context):
        if alert.for_.documented:
            shorter = {rule.for_s / 2, 0.0, rule.for_s - context.profile.evaluation_interval_s}
            for new in sorted({value for value in shorter if value >= 0} - {rule.for_s}):
                yield _rule_mutant(
                    context, "kill", "for", alert, key, replace(rule, for_s=new), f"for {rule.for_s:g}s -> {new:g}s"
                )
        else:
            for new in sorted({rule.for_s * 2 or 60.0, rule.for_s / 2} - {rule.for_s}):
                yield _rule_mutant(
                    context,
                    "pass",
                    "undocumented-for",
                    alert,
                    key,
                    replace(rule, for_s=new),
                    f"for {rule.for_s:g}s -> {new:g}s",
                )


def _counter(context: Context) -> Iterator[Mutant]:
    for alert, key, rule in _owned_rules(context):
        if "changes(" not in rule.expr:
            continue
        for function in ("increase", "delta"):
            expr = rule.expr.replace("changes(", f"{function}(")
            yield _rule_mutant(
                context, "kill", "counter", alert, key, replace(rule, expr=expr), f"changes() -> {function}()"
            )


def _self_exclusion(context: Context) -> Iterator[Mutant]:
    for alert, key, rule in _owned_rules(context):
        own = re.compile(rf',?\s*alertname\s*!=\s*"{re.escape(alert.name)}"\s*,?')
        if "ALERTS" not in rule.expr or not own.search(rule.expr):
            continue
        expr = own.sub(
            lambda m: "," if m.group(0).startswith(",") and m.group(0).rstrip().endswith(",") else "",
            rule.expr,
            count=1,
        )
        yield _rule_mutant(context, "kill", "sustain", alert, key, replace(rule, expr=expr), "self-exclusion dropped")


def _has_range(node: promql_parser.Expr) -> bool:
    found = False

    def visit(item: object) -> None:
        nonlocal found
        if isinstance(item, promql_parser.MatrixSelector | promql_parser.SubqueryExpr):
            found = True

    promql_parser.walk(node, visit, None)
    return found


def _edge(context: Context) -> Iterator[Mutant]:
    """A state comparison ``x op N`` made edge-triggered: true only while ``x`` changed in the last window."""
    for alert, key, rule in _owned_rules(context):
        tree = promql_parser.parse(rule.expr)
        if not isinstance(tree, promql_parser.BinaryExpr) or not isinstance(tree.rhs, promql_parser.NumberLiteral):
            continue
        if (
            str(tree.op).strip() not in (">", "<", ">=", "<=", "==", "!=")
            or _has_range(tree.lhs)
            or "ALERTS" in rule.expr
        ):
            continue
        # Longer than the rule's own ``for`` so the mutant does fire, then resolves while the fault holds.
        window = format_duration(rule.for_s + EDGE_OUTLASTS_FOR_S)
        expr = f"changes(({tree.lhs})[{window}:]) > 0"
        yield _rule_mutant(context, "kill", "sustain", alert, key, replace(rule, expr=expr), f"edge-triggered: {expr}")


_TOTAL = re.compile(r"\bsum\s*\(")


def _aggregation(context: Context) -> Iterator[Mutant]:
    for alert, key, rule in _owned_rules(context):
        if not _TOTAL.search(rule.expr):
            continue
        for per_object in ("max(", "sum by (pod) (", "avg("):
            expr = _TOTAL.sub(per_object, rule.expr, count=1)
            yield _rule_mutant(
                context, "kill", "aggregation", alert, key, replace(rule, expr=expr), f"sum( -> {per_object}"
            )


_COMPARISON = re.compile(r"(?<![<>=!])([<>])(?!=)\s*(\d[\d.]*(?:e[+-]?\d+)?)")


def _inclusive(context: Context) -> Iterator[Mutant]:
    """``>=`` for ``>``: on a continuous quantity the boundary itself has no weight."""
    for alert, key, rule in _owned_rules(context):
        threshold = alert.threshold
        if threshold is None or threshold.op not in (">", "<"):
            continue
        # A continuous ratio strictly between its bounds: no series sits exactly on the boundary (at 0 the
        # healthy state itself does, and ">= 0" would always fire).
        ceiling = alert.scenarios[0].kind.ceiling
        if threshold.integer or ceiling is None or not 0 < threshold.value < ceiling:
            continue
        literals = {value for op, value in comparisons(rule.expr) if op == threshold.op}
        for match in _COMPARISON.finditer(rule.expr):
            if match.group(1) == threshold.op and float(match.group(2)) in literals:
                expr = f"{rule.expr[: match.start()]}{match.group(1)}= {match.group(2)}{rule.expr[match.end() :]}"
                what = f"{threshold.op} -> {threshold.op}="
                yield _rule_mutant(context, "pass", "inclusive", alert, key, replace(rule, expr=expr), what)
                break


def _matched(selector: Selector, samples: Mapping[SeriesKey, float]) -> set[SeriesKey]:
    return {key for key in samples if selector.matches(dict(key))}


def _redundant_matchers(context: Context) -> Iterator[Mutant]:
    """Drop one matcher that selects nothing the selector would not select anyway in the simulated cluster."""
    seen: set[str] = set()
    for alert, key, rule in _owned_rules(context):
        for selector in selectors_in([rule.expr]):
            matched = _matched(selector, context.healthy)
            if not matched:
                continue
            for index, (label, op, value) in enumerate(selector.matchers):
                looser = replace(selector, matchers=selector.matchers[:index] + selector.matchers[index + 1 :])
                if label == "__name__" or _matched(looser, context.healthy) != matched:
                    continue
                expr = _without_matcher(rule.expr, selector, looser)
                if expr is None or expr in seen:
                    continue
                seen.add(expr)
                what = f'{label}{op}"{value}" dropped'
                yield _rule_mutant(context, "pass", "redundant-matcher", alert, key, replace(rule, expr=expr), what)
                break


def _without_matcher(expr: str, selector: Selector, looser: Selector) -> str | None:
    """``expr`` with the one matcher that turns ``selector`` into ``looser`` cut from its text, or None.

    The same matcher text may stand in several selectors: each occurrence is tried, and the one whose removal
    changes exactly this selector, into exactly ``looser``, is taken.
    """
    label, op, value = next(m for m in selector.matchers if m not in looser.matchers)
    pattern = re.compile(rf'(,\s*)?\b{re.escape(label)}\s*{re.escape(op)}\s*"{re.escape(value)}"(\s*,)?')
    wanted = list(selectors_in([expr]))
    wanted[wanted.index(selector)] = looser
    for found in pattern.finditer(expr):
        keep = "," if found.group(1) and found.group(2) else ""
        candidate = expr[: found.start()] + keep + expr[found.end() :]
        if selectors_in([candidate]) == wanted:
            return candidate
    return None


# ---------------------------------------------------------------------------------------------- routing


def _delivering_paths(context: Context, documented: RoutingSetup, setup: AlertmanagerSetup) -> list[tuple[int, ...]]:
    """The routes that deliver the documented alerts to this set-up's documented receiver (first seen first)."""
    paths: list[tuple[int, ...]] = []
    for alert in context.profile.alerts:
        receiver = setup.generated_name(alert.receivers.get(documented.name, documented.receiver))
        for labels in context.labels.get(alert.key, []):
            for match in route_alert(setup.config, labels):
                if match.receiver == receiver and match.path not in paths:
                    paths.append(match.path)
    return paths


def _node(config: dict[str, Any], path: tuple[int, ...]) -> dict[str, Any]:
    node: dict[str, Any] = config["route"]
    for index in path:
        node = node["routes"][index]
    return node


def _other(name: str, value: Any) -> Any:
    """A different value of the same setting, as a pack author might write it."""
    if name == "send_resolved":
        return not value
    if name == "group_by":
        return [*value, "namespace"] if "namespace" not in value else [*value, "pod"]
    return "1h" if value != 3600.0 else "2h"


def _routing(context: Context) -> Iterator[Mutant]:
    every = tuple(alert.key for alert in context.profile.alerts)
    for documented in context.profile.routing:
        setup = context.pack.setup(documented.form)
        if setup is None:
            continue
        paths = _delivering_paths(context, documented, setup)
        if not paths:
            continue
        wanted = documented.documented_settings()
        for name in SETTING_NAMES:
            verdict: Verdict = "kill" if name in wanted else "pass"
            cls = "routing" if verdict == "kill" else "undocumented-setting"
            config = copy.deepcopy(setup.config)
            if name == "send_resolved":
                receiver = setup.generated_name(documented.receiver)
                current = integrations(setup.config, receiver)
                if not current:
                    continue
                definition = next(r for r in config["receivers"] if r.get("name") == receiver)
                for where in current:
                    kind, index = where.where.rstrip("]").split("[")
                    definition[kind][int(index)]["send_resolved"] = not where.send_resolved
                what = f"send_resolved on {documented.receiver} flipped"
            else:
                current_value = route_settings(setup.config, paths[0])[name]
                new = _other(name, current_value)
                for path in paths:
                    _node(config, path)[name] = new
                what = f"{name} {current_value} -> {new} on the delivering route"
            yield Mutant(
                context.profile.name, verdict, cls, f"{documented.name}: {what}", every, setup=(documented.form, config)
            )
        if "group_wait" in wanted:
            yield _one_alert_group_wait(context, documented, setup, paths[0])


def _one_alert_group_wait(
    context: Context, documented: RoutingSetup, setup: AlertmanagerSetup, path: tuple[int, ...]
) -> Mutant:
    """A route of its own, before the others, for one alert: same receiver, another group_wait."""
    alert = next(a for a in context.profile.alerts if context.labels.get(a.key))
    config = copy.deepcopy(setup.config)
    parent = _node(config, path[:-1]) if path else config["route"]
    routes = parent.setdefault("routes", [])
    delivering: dict[str, Any] = (
        copy.deepcopy(_node(setup.config, path)) if path else {"receiver": parent.get("receiver")}
    )
    delivering.pop("routes", None)
    matchers: list[str] = list(delivering.get("matchers") or [])
    delivering["matchers"] = [*matchers, f'alertname="{alert.name}"']
    delivering["group_wait"] = _other("group_wait", route_settings(setup.config, path)["group_wait"])
    delivering["continue"] = False
    routes.insert(path[-1] if path else 0, delivering)
    return Mutant(
        context.profile.name,
        "kill",
        "routing",
        f"{documented.name}: {alert.key} alone on a route with group_wait {delivering['group_wait']}",
        (alert.key,),
        setup=(documented.form, config),
    )
