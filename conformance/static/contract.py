"""Depth 1: the pack has every documented alert, with the documented severity, a threshold no looser than
documented, the documented ``for`` (neither longer nor shorter), and annotations a person can act on whose
templates only use labels the expression keeps.

Threshold comparison is static: the comparisons against number literals in the rule's expression (read through
promql-parser) are set against the documented value, also as a percentage. When the expression measures the
quantity in another unit (a rate instead of a count), nothing is concluded here and depth 3 decides by behaviour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import promql_parser

from conformance.model.contract import AlertContract, Threshold
from conformance.model.durations import format_duration
from conformance.packs.model import Pack, Rule
from conformance.packs.selection import select_rules

_FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}
_COMPARISONS = {">", "<", ">=", "<=", "==", "!="}
_TEMPLATE_LABEL = re.compile(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)|\.Labels\.([A-Za-z_][A-Za-z0-9_]*)")
_PLACEHOLDER = re.compile(r"^\s*<[^>]*>\s*$")
ACTIONABLE_ANNOTATIONS = ("summary", "description", "message", "runbook_url")


@dataclass
class ContractResult:
    """``problems`` empty means the alert meets its contract statically; ``notes`` are informative."""

    alert: AlertContract
    rules: list[Rule]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def comparisons(expr: str) -> list[tuple[str, float]]:
    """Every ``<vector> op <number>`` in the expression, normalised so the number is on the right."""
    found: list[tuple[str, float]] = []

    def visit(node: object) -> None:
        if not isinstance(node, promql_parser.BinaryExpr):
            return
        op = str(node.op).strip()
        if op not in _COMPARISONS:
            return
        if isinstance(node.rhs, promql_parser.NumberLiteral) and not isinstance(node.lhs, promql_parser.NumberLiteral):
            found.append((op, float(node.rhs.val)))
        elif isinstance(node.lhs, promql_parser.NumberLiteral) and not isinstance(
            node.rhs, promql_parser.NumberLiteral
        ):
            found.append((_FLIP[op], float(node.lhs.val)))

    promql_parser.walk(promql_parser.parse(expr), visit, None)
    return found


def _same_direction(a: str, b: str) -> bool:
    return (a in (">", ">=")) == (b in (">", ">=")) and a not in ("==", "!=")


def threshold_finding(threshold: Threshold, expr: str) -> tuple[str | None, str | None]:
    """(problem, note): a problem when the literal threshold is looser than documented."""
    candidates = [(op, value) for op, value in comparisons(expr) if _same_direction(op, threshold.op)]
    documented = threshold.value
    best: tuple[float, str, float, float] | None = None
    for op, literal in candidates:
        for scale in (1.0, 100.0, 0.01):
            scaled = literal / scale
            if documented == 0:
                distance = abs(scaled)
            else:
                if scaled <= 0 or not documented / 3 <= scaled <= documented * 3:
                    continue
                distance = abs(scaled - documented) / abs(documented)
            if best is None or distance < best[0]:
                best = (distance, op, literal, scaled)
    if best is None:
        return None, f"no literal comparable to {threshold.describe()} in the expression; depth 3 decides"
    _, op, literal, scaled = best
    above = threshold.op in (">", ">=")
    if threshold.integer and scaled == int(scaled):
        # Counts: "> 2" and ">= 3" are the same condition; compare in the inclusive form.
        shift = {">": 1, "<": -1, ">=": 0, "<=": 0}
        mine, theirs = scaled + shift.get(op, 0), documented + shift[threshold.op]
        if mine == theirs:
            return None, None
        looser = mine < theirs if above else mine > theirs
        word = "looser" if looser else "tighter"
        message = f"threshold {op} {literal:g} is {word} than the documented {threshold.op} {documented:g}"
        return (message, None) if looser else (None, message)
    if abs(scaled - documented) <= 1e-9 * max(1.0, abs(documented)):
        if op != threshold.op and threshold.integer is False and (op in (">=", "<=")) != (threshold.op in (">=", "<=")):
            return None, f"compares {op} {literal:g} where the document says {threshold.op} {documented:g}"
        return None, None
    looser = scaled < documented if above else scaled > documented
    if looser:
        return (
            f"threshold {op} {literal:g} is looser than the documented {threshold.op} {documented:g}",
            None,
        )
    return None, f"threshold {op} {literal:g} is tighter than the documented {threshold.op} {documented:g}"


def kept_labels(expr: str) -> set[str] | None:
    """Labels the expression's result can carry, or None when any label of the input series may survive."""
    return _kept(promql_parser.parse(expr))


def _kept(node: object) -> set[str] | None:
    if isinstance(node, promql_parser.ParenExpr):
        return _kept(node.expr)
    if isinstance(node, promql_parser.AggregateExpr):
        modifier = node.modifier
        op = str(node.op)
        if op in ("topk", "bottomk", "limitk", "limit_ratio"):
            return _kept(node.expr)
        if modifier is None:
            return set()
        labels = set(modifier.labels)
        if "Exclude" in str(modifier.type) or "without" in str(modifier).lower():
            inner = _kept(node.expr)
            return None if inner is None else inner - labels
        return labels
    if isinstance(node, promql_parser.BinaryExpr):
        # A scalar side (a number, time(), scalar(...)) matches nothing: the result has the other side's labels.
        lhs_scalar = _scalar(node.lhs)
        rhs_scalar = _scalar(node.rhs)
        if rhs_scalar:
            return _kept(node.lhs)
        if lhs_scalar:
            return _kept(node.rhs)
        left = _kept(node.lhs)
        card = str(getattr(node.modifier, "card", "")) if node.modifier is not None else ""
        matching = getattr(node.modifier, "matching", None) if node.modifier is not None else None
        op = str(node.op).strip()
        if op in ("or",):
            right = _kept(node.rhs)
            return None if left is None or right is None else left | right
        if "ManyToOne" in card or "OneToMany" in card:
            return None
        if matching is not None and op not in ("and", "unless") and left is not None:
            # One-to-one arithmetic or comparison keeps only the matching labels: on(...) keeps those listed,
            # ignoring(...) drops those listed. Set operators keep the left side's labels whole.
            listed = set(matching.labels)
            return left & listed if "Include" in str(matching.type) else left - listed
        if matching is not None and op not in ("and", "unless"):
            return set(matching.labels) if "Include" in str(matching.type) else None
        return left
    if isinstance(node, promql_parser.Call):
        name = str(getattr(node.func, "name", ""))
        if name in ("label_replace", "label_join"):
            return None
        if name in ("vector", "time", "scalar"):
            return set()
        if name in {"absent", "absent_over_time"}:
            return None
        vector_args = [
            arg for arg in node.args if not isinstance(arg, promql_parser.NumberLiteral | promql_parser.StringLiteral)
        ]
        return _kept(vector_args[0]) if vector_args else set()
    if isinstance(node, promql_parser.SubqueryExpr | promql_parser.UnaryExpr):
        return _kept(node.expr)
    return None


def _scalar(node: object) -> bool:
    """Whether ``node`` is a scalar: a number, or a call of time() or scalar()."""
    if isinstance(node, promql_parser.NumberLiteral):
        return True
    if isinstance(node, promql_parser.ParenExpr):
        return _scalar(node.expr)
    return isinstance(node, promql_parser.Call) and str(getattr(node.func, "name", "")) in ("time", "scalar")


def _ranges(expr: str) -> set[float]:
    """The range windows (``[5m]``, subquery ranges) an expression reads, in seconds."""
    found: set[float] = set()

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.MatrixSelector | promql_parser.SubqueryExpr) and node.range is not None:
            found.add(node.range.total_seconds())

    promql_parser.walk(promql_parser.parse(expr), visit, None)
    return found


#: Functions whose result is past a threshold only when every sample of their range is: a hold of the condition
#: written into the expression instead of ``for``.
_HOLDING_FUNCTIONS = frozenset({"min_over_time", "max_over_time"})


def _age_bound_s(node: object) -> float:
    """N for ``time() - <start timestamps> > N`` (or ``>=``): the expression fires only once the state it reads
    started N seconds ago (KubeJobNotCompleted's ``time() - kube_job_status_start_time ... > 43200``), a hold
    written as an age; 0 for anything else."""
    if not isinstance(node, promql_parser.BinaryExpr) or str(node.op) not in (">", ">="):
        return 0.0
    lhs, rhs = node.lhs, node.rhs
    if not isinstance(rhs, promql_parser.NumberLiteral) or not isinstance(lhs, promql_parser.BinaryExpr):
        return 0.0
    clock = lhs.lhs
    if str(lhs.op) != "-" or not isinstance(clock, promql_parser.Call):
        return 0.0
    return float(rhs.val) if str(getattr(clock.func, "name", "")) == "time" else 0.0


def expression_hold_s(expr: str) -> float:
    """The longest time the expression itself requires its input to hold: the range of a holding function
    (``min_over_time(x[5m])``), or the age an ``time() - start > N`` comparison asks of a state."""
    longest = 0.0

    def visit(node: object) -> None:
        nonlocal longest
        longest = max(longest, _age_bound_s(node))
        if isinstance(node, promql_parser.Call) and str(getattr(node.func, "name", "")) in _HOLDING_FUNCTIONS:
            for arg in node.args:
                if isinstance(arg, promql_parser.MatrixSelector | promql_parser.SubqueryExpr) and arg.range is not None:
                    longest = max(longest, arg.range.total_seconds())

    promql_parser.walk(promql_parser.parse(expr), visit, None)
    return longest


def for_finding(documented_s: float, rule: Rule) -> tuple[str | None, str | None]:
    """(problem, note) for a rule's ``for`` against a documented duration, in both directions.

    Longer fires late; shorter fires before the condition has held as long as the document promises, which a
    rate window can hide from depth 3's just-past-the-threshold case, so it is caught here by value. A rule that
    holds the condition in its expression (``min_over_time``) instead is left to depth 3's behaviour.
    """
    mine, theirs = format_duration(rule.for_s), format_duration(documented_s)
    if rule.for_s > documented_s:
        return f"`for` {mine} is longer than the documented {theirs}", None
    if rule.for_s < documented_s:
        if rule.for_s + expression_hold_s(rule.expr) >= documented_s:
            return None, f"`for` {mine} plus the hold written in the expression covers the documented {theirs}"
        return f"`for` {mine} is shorter than the documented {theirs}", None
    return None, None


def template_labels(text: str) -> set[str]:
    return {a or b for a, b in _TEMPLATE_LABEL.findall(text)}


def check_contract(alert: AlertContract, pack: Pack) -> ContractResult:
    """Depth 1 for one documented alert."""
    selection = select_rules(pack, alert)
    result = ContractResult(alert, list(selection.named))
    problem = selection.problem()
    if problem:
        result.problems.append(problem)
        if not selection.named or selection.by_severity:
            return result  # missing, or the rule_labels select nothing: there is no rule to judge
    # A wrong severity is judged on the rules of that name, so the other findings come in the same round.
    rules = list(selection.rules or selection.named)
    result.rules = rules
    for rule in rules:
        if alert.threshold is not None:
            problem, note = threshold_finding(alert.threshold, rule.expr)
            if problem:
                result.problems.append(f"{problem} ({rule.where()})")
            if note:
                result.notes.append(note)
        if alert.window is not None and alert.window.documented:
            ranges = _ranges(rule.expr)
            if ranges and alert.window.seconds not in ranges:
                shown = ", ".join(format_duration(r) for r in sorted(ranges))
                result.problems.append(
                    f"measures over {shown}, the document says {format_duration(alert.window.seconds)} ({rule.where()})"
                )
        if alert.for_.documented:
            problem, note = for_finding(alert.for_.seconds, rule)
            if problem:
                result.problems.append(f"{problem} ({rule.where()})")
            if note:
                result.notes.append(note)
        _check_annotations(rule, result)
    return result


def _check_annotations(rule: Rule, result: ContractResult) -> None:
    actionable = [
        key
        for key in ACTIONABLE_ANNOTATIONS
        if rule.annotations.get(key, "").strip() and not _PLACEHOLDER.match(rule.annotations[key])
    ]
    if not actionable:
        result.problems.append(
            f"no summary or description a person can act on (annotations: {sorted(rule.annotations) or 'none'})"
            f" ({rule.where()})"
        )
    kept = kept_labels(rule.expr)
    if kept is None:
        return
    available = kept | set(rule.labels)
    for key, text in sorted(rule.annotations.items()):
        for label in sorted(template_labels(text) - available):
            result.problems.append(
                f"annotation {key} uses $labels.{label}, which the expression drops: it renders empty "
                f"(kept: {', '.join(sorted(available)) or 'none'}) ({rule.where()})"
            )
