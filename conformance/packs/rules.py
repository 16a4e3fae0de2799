"""Prometheus rule groups read from any pack form, checked as Prometheus would check them.

Each rule's expression is parsed with ``promql_parser`` and its durations with Prometheus' own grammar
(``1h30m``, no fractions, units in decreasing order); every error names the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import promql_parser

from conformance.errors import PackError, PromQLError
from conformance.model.durations import parse_duration
from conformance.packs.model import Rule, RuleGroup
from conformance.yamlio import Document

# Prometheus' model.ParseDuration: integer parts, units in decreasing order, each at most once.
_PROM_DURATION = re.compile(r"^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")
_RULE_KEYS = {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
_GROUP_KEYS = {"name", "interval", "rules", "limit", "query_offset", "partial_response_strategy", "labels"}

PathKey = tuple[str | int, ...]


def prometheus_duration(value: Any, document: Document, path: PathKey) -> float:
    """Seconds in the Prometheus duration at ``path``; :class:`PackError` naming file and line if not one."""
    text = "" if isinstance(value, bool) else str(value).strip()
    if text == "0":  # Prometheus accepts a bare zero
        return 0.0
    if not text or not _PROM_DURATION.match(text):
        raise PackError(
            f"bad duration {value!r}: expected a Prometheus duration such as 30s, 5m or 1h30m",
            source=document.source,
            place=document.place(path),
        )
    return parse_duration(text)


def parse_groups(document: Document, path: PathKey) -> list[RuleGroup]:
    """The rule groups listed at ``path`` of ``document`` (``("groups",)``, ``("spec", "groups")`` ...)."""
    node = _at(document.data, path)
    if not isinstance(node, list):
        raise PackError("groups must be a list of rule groups", source=document.source, place=document.place(path))
    groups: list[RuleGroup] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(node):
        group_path = (*path, index)
        where = document.place(group_path)
        if not isinstance(raw, dict) or not raw.get("name"):
            raise PackError("a rule group needs a name", source=document.source, place=where)
        unknown = sorted(set(raw) - _GROUP_KEYS)
        if unknown:
            raise PackError(
                f"unknown field(s) in rule group: {', '.join(map(str, unknown))}",
                source=document.source,
                place=where,
            )
        name = str(raw["name"])
        if name in seen:
            raise PackError(
                f'group name "{name}" is repeated in the same document (first at line {seen[name]})',
                source=document.source,
                place=where,
            )
        seen[name] = document.line_of(group_path) or 0
        interval = None
        if raw.get("interval") is not None:
            interval = prometheus_duration(raw["interval"], document, (*group_path, "interval"))
        rules_raw = raw.get("rules") or []
        if not isinstance(rules_raw, list):
            raise PackError(
                "rules must be a list", source=document.source, place=document.place((*group_path, "rules"))
            )
        rules = tuple(
            _parse_rule(item, name, document, (*group_path, "rules", rule_index))
            for rule_index, item in enumerate(rules_raw)
        )
        groups.append(RuleGroup(name=name, rules=rules, source=document.source, interval_s=interval))
    return groups


def _parse_rule(raw: Any, group: str, document: Document, path: PathKey) -> Rule:
    where = document.place(path)
    if not isinstance(raw, dict):
        raise PackError("a rule must be a mapping", source=document.source, place=where)
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise PackError(
            f"unknown field(s) in rule: {', '.join(map(str, unknown))}", source=document.source, place=where
        )
    alert, record = raw.get("alert"), raw.get("record")
    if bool(alert) == bool(record):
        raise PackError("a rule needs exactly one of alert or record", source=document.source, place=where)
    expr = raw.get("expr")
    if expr is None or isinstance(expr, dict | list) or not str(expr).strip():
        raise PackError("a rule needs an expr", source=document.source, place=where)
    expr_text = str(expr)
    try:
        promql_parser.parse(expr_text)
    except (ValueError, TypeError) as error:
        raise PromQLError(
            f"{alert or record}: expr does not parse: {error} (expr: {expr_text.strip()})",
            source=document.source,
            place=document.place((*path, "expr")),
        ) from None
    for_s = prometheus_duration(raw["for"], document, (*path, "for")) if raw.get("for") is not None else 0.0
    keep = raw.get("keep_firing_for")
    keep_s = prometheus_duration(keep, document, (*path, "keep_firing_for")) if keep is not None else 0.0
    return Rule(
        expr=expr_text,
        group=group,
        source=document.source,
        line=document.line_of(path),
        alert=str(alert) if alert else None,
        record=str(record) if record else None,
        for_s=for_s,
        keep_firing_for_s=keep_s,
        labels=_string_map(raw.get("labels"), document, (*path, "labels")),
        annotations=_string_map(raw.get("annotations"), document, (*path, "annotations")),
    )


def _string_map(value: Any, document: Document, path: PathKey) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PackError("must be a map of names to strings", source=document.source, place=document.place(path))
    return {str(key): "" if item is None else str(item) for key, item in value.items()}


def _at(data: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        data = data[part]
    return data
