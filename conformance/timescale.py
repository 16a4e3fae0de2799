"""``--time-scale N``: every duration of the live twin shrinks by the same factor.

The simulated cluster's virtual clock runs ``N`` times faster than the wall clock, so for the pack to see the
same world it must look at it through durations shrunk by ``N``: ``for``, ``keep_firing_for``, range windows,
offsets, subquery ranges and steps, group timers, scrape and evaluation intervals.

Expressions are rewritten on their syntax tree with :func:`promql_parser.transform`, never with text
substitution. Two further rewrites keep values (not only windows) equal to the unscaled world:

* ``rate``, ``irate`` and ``deriv`` are per *wall* second; the counters they read grow ``N`` times faster per
  wall second, so each call is divided by ``N``. ``increase``, ``delta``, ``changes`` and ``*_over_time`` count
  or compare values and need no correction.
* ``predict_linear(v[r], t)`` looks ``t`` seconds ahead: ``t`` becomes ``t / N`` (the slope is already ``N``
  times steeper, so the prediction is unchanged).

A scale of 1 returns every expression and duration unchanged.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import promql_parser

from conformance.errors import PromQLError
from conformance.model.durations import format_duration, parse_duration

#: Per-second functions whose result must be divided by the scale (see the module docstring).
PER_SECOND_FUNCTIONS = frozenset({"rate", "irate", "deriv"})

#: Functions whose scalar argument at this index is a duration in seconds.
SECONDS_ARGUMENT = {"predict_linear": 1}

_MIN_DURATION_S = 0.001  # Prometheus durations have millisecond resolution


def scale_seconds(seconds: float, scale: float) -> float:
    """``seconds / scale`` on a millisecond grid; a non-zero duration never rounds down to zero."""
    if seconds <= 0:
        return 0.0
    scaled = round(seconds / scale, 3)
    return max(scaled, _MIN_DURATION_S)


def scale_duration_text(text: str | int | float, scale: float) -> str:
    """A Prometheus duration string (``5m``) shrunk by ``scale`` (``15s`` at 20); ``ValueError`` if not one."""
    return format_duration(scale_seconds(parse_duration(text), scale))


def _duration(delta: timedelta, scale: float) -> str:
    seconds = delta.total_seconds()
    sign = "-" if seconds < 0 else ""
    return sign + format_duration(scale_seconds(abs(seconds), scale))


def _at_text(at: Any) -> str:
    """The ``@`` modifier as PromQL text (``@ start()``, ``@ end()``, ``@ 1700000000.000``)."""
    if at is None:
        return ""
    kind = str(at.type)
    if kind.endswith("Start"):
        return " @ start()"
    if kind.endswith("End"):
        return " @ end()"
    return f" @ {at.at.timestamp():.3f}"


def _modifiers(offset: timedelta | None, at: Any, scale: float) -> str:
    text = f" offset {_duration(offset, scale)}" if offset else ""
    return text + _at_text(at)


_MATCH_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


def _bare_selector(selector: Any) -> str:
    r"""``name{matchers}`` without offset or ``@``, label values quoted as PromQL strings.

    Printed here: the bindings' own ``str`` leaves a value's backslashes unescaped (``le=~"1(\.0)?"`` comes
    back as ``"1(\.0)?"`` with one backslash, which no longer parses), and their ``prettify`` keeps the offset.
    """
    matchers = []
    for matcher in selector.matchers.matchers:
        if matcher.name == "__name__" and selector.name:
            continue  # the metric name is printed before the braces
        op = _MATCH_OPS[str(matcher.op).rsplit(".", 1)[-1]]
        matchers.append(f"{matcher.name}{op}{json.dumps(matcher.value)}")
    name = selector.name or ""
    return f"{name}{{{', '.join(matchers)}}}" if matchers or not name else name


def scale_expr(expr: str, scale: float, *, source: str | None = None, place: str | None = None) -> str:
    """``expr`` with every duration in it shrunk by ``scale`` and per-second values kept (see module docstring).

    Raises :class:`PromQLError` naming ``source``/``place`` when the expression does not parse.
    """
    if scale == 1:
        return expr
    try:
        tree = promql_parser.parse(expr)
    except (ValueError, TypeError) as error:
        raise PromQLError(f"expression does not parse: {error}", source=source, place=place) from None

    # Replacements are parsed afresh from text built around the children, which post-order visiting has
    # already rewritten; the bindings' own printer drops sub-second durations, so durations are printed here.
    def post_visit(node: Any) -> Any:
        if isinstance(node, promql_parser.MatrixSelector):
            selector = node.vector_selector
            # The selector child was visited first: its offset is already scaled.
            offset, at = selector.offset, selector.at
            text = f"{_bare_selector(selector)}[{_duration(node.range, scale)}]{_modifiers(offset, at, 1.0)}"
            return promql_parser.parse(text)
        if isinstance(node, promql_parser.VectorSelector):
            if node.offset is None:
                return None
            offset, at = node.offset, node.at
            return promql_parser.parse(_bare_selector(node) + _modifiers(offset, at, scale))
        if isinstance(node, promql_parser.SubqueryExpr):
            step = f":{_duration(node.step, scale)}" if node.step else ":"
            window = _duration(node.range, scale) if node.range else ""
            text = f"({node.expr.prettify()})[{window}{step}]{_modifiers(node.offset, node.at, scale)}"
            return promql_parser.parse(text)
        if isinstance(node, promql_parser.Call):
            return _scale_call(node, scale)
        return None

    try:
        scaled = promql_parser.transform(tree, post_visit=post_visit)
    except ValueError as error:
        raise PromQLError(f"cannot scale expression by {scale:g}: {error}", source=source, place=place) from None
    return " ".join(line.strip() for line in scaled.prettify().splitlines())


def _scale_call(node: Any, scale: float) -> Any:
    name = node.func.name
    factor = f"{scale:g}"
    if name in PER_SECOND_FUNCTIONS:
        return promql_parser.parse(f"({node.prettify()} / {factor})")
    index = SECONDS_ARGUMENT.get(name)
    if index is not None and len(node.args) > index:
        args = [arg.prettify() for arg in node.args]
        args[index] = f"({args[index]}) / {factor}"
        return promql_parser.parse(f"{name}({', '.join(args)})")
    return None
