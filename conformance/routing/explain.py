"""One line saying why an alert misses the receiver a contract expects: what users read in failures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.routing.matchers import Matcher, quote
from conformance.routing.tree import Route, build_tree, match_routes


def explain_route(config: Mapping[str, Any], labels: Mapping[str, str], expected_receiver: str) -> str:
    """Why ``labels`` does not reach ``expected_receiver`` (or where it does), as one precise line.

    Every route leading to the receiver is followed from the root; the reason reported is the one on the
    route that gets furthest: a matcher the alert fails (naming the Prometheus Operator when it added that
    matcher), an earlier sibling that took the alert without ``continue: true``, or a child route that takes
    the alert from the route that would deliver it.
    """
    tree = build_tree(config)
    delivered = match_routes(tree, labels)
    for route in delivered:
        if route.receiver == expected_receiver:
            return f"{quote(expected_receiver)} is reached through {route.name}"
    reached = ", ".join(f"{quote(r.receiver)} ({r.name})" for r in delivered)
    candidates = [node for node in tree.walk() if node.receiver == expected_receiver]
    if not candidates:
        defined = [str(r.get("name")) for r in config.get("receivers") or [] if isinstance(r, Mapping)]
        if expected_receiver not in defined:
            return (
                f"receiver {quote(expected_receiver)} is not defined "
                f"(defined: {', '.join(defined) or 'none'}); "
                f"the alert reaches {reached}"
            )
        return f"no route delivers to {quote(expected_receiver)}; the alert reaches {reached}"
    best: tuple[int, str] | None = None
    for candidate in candidates:
        depth, reason = _blocker(tree, candidate, labels)
        if best is None or depth > best[0]:
            best = (depth, reason)
    assert best is not None
    return best[1]


def _blocker(tree: Route, candidate: Route, labels: Mapping[str, str]) -> tuple[int, str]:
    """How far along the path to ``candidate`` the alert gets, and what stops it there."""
    target = f"{candidate.name} to {quote(candidate.receiver)}"
    parent = tree
    for depth, index in enumerate(candidate.path, start=1):
        node = parent.children[index]
        failing = [m for m in node.matchers if not m.matches(labels)]
        if failing:
            where = f"route {target}" if node is candidate else f"route {node.name} (on the way to {target})"
            return (
                depth,
                f"{where} requires {_requirements(node, failing)}; the alert has {_actual(failing, labels)}",
            )
        for sibling in parent.children[:index]:
            if not sibling.continue_ and match_routes(sibling, labels):
                return depth, (
                    f"an earlier route {sibling.name} (receiver {quote(sibling.receiver)}) matched without "
                    f"continue: true, so {target} is never tried"
                )
        parent = node
    taker = next(child for child in candidate.children if match_routes(child, labels))
    return len(candidate.path) + 1, (
        f"route {target} matches, but its child route {taker.name} (receiver {quote(taker.receiver)}) "
        "takes the alert: a route delivers to its own receiver only when none of its child routes match"
    )


def _requirements(node: Route, failing: list[Matcher]) -> str:
    scope = node.operator_scope()
    parts = []
    for matcher in failing:
        text = str(matcher)
        if scope and matcher.name == "namespace" and matcher.op == "=" and matcher.value == scope[0]:
            text += f" (added by the Prometheus Operator for AlertmanagerConfig {scope[0]}/{scope[1]})"
        parts.append(text)
    return " and ".join(parts)


def _actual(failing: list[Matcher], labels: Mapping[str, str]) -> str:
    names = list(dict.fromkeys(m.name for m in failing))
    return " and ".join(f"{name}={quote(labels[name])}" if name in labels else f"no {name} label" for name in names)
