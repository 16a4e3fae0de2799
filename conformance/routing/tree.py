"""Alertmanager's routing tree evaluated in-process (``dispatch/route.go``).

An alert enters at the root. A route matches when all its matchers match; its children are tried in order,
depth first; the first matching child stops the search unless it has ``continue: true``; a matching route none
of whose children match delivers the alert itself. A route without ``receiver`` inherits its parent's. The
root route matches every alert (Alertmanager forbids matchers on it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.routing.matchers import Matcher, matchers_of

# Receivers the Prometheus Operator generates for an AlertmanagerConfig: <namespace>/<name>/<receiver>.
_OPERATOR_RECEIVER = re.compile(r"^([^/]+)/([^/]+)/.+$")


@dataclass(frozen=True)
class Route:
    """One node of the routing tree, with its inherited receiver resolved."""

    path: tuple[int, ...]
    receiver: str
    matchers: tuple[Matcher, ...]
    continue_: bool
    children: tuple[Route, ...]
    raw: Mapping[str, Any]

    @property
    def name(self) -> str:
        """``routes[1].routes[0]``; ``the root route`` for the root."""
        return route_name(self.path)

    def operator_scope(self) -> tuple[str, str] | None:
        """``(namespace, name)`` of the AlertmanagerConfig this first-level route was generated from, if any.

        Recognised by the Prometheus Operator's naming (receiver ``<ns>/<name>/<receiver>``) and the
        ``namespace="<ns>"`` matcher it adds to that route.
        """
        if len(self.path) != 1:
            return None
        found = _OPERATOR_RECEIVER.match(self.receiver)
        if not found:
            return None
        namespace = found.group(1)
        if any(m.name == "namespace" and m.op == "=" and m.value == namespace for m in self.matchers):
            return namespace, found.group(2)
        return None

    def walk(self) -> list[Route]:
        """This route and all below it, depth first in config order."""
        nodes = [self]
        for child in self.children:
            nodes.extend(child.walk())
        return nodes


@dataclass(frozen=True)
class RouteMatch:
    """A route an alert is delivered by: its receiver, its place (indices from the root) and its matchers."""

    receiver: str
    path: tuple[int, ...]
    matchers: str

    @property
    def route_name(self) -> str:
        return route_name(self.path)


def route_name(path: tuple[int, ...]) -> str:
    if not path:
        return "the root route"
    return ".".join(f"routes[{index}]" for index in path)


def build_tree(config: Mapping[str, Any]) -> Route:
    """The routing tree of an Alertmanager config dict (matchers parsed, receivers inherited)."""
    root = config.get("route")
    if not isinstance(root, Mapping):
        raise ValueError("the config has no route")
    return _build(root, (), "", is_root=True)


def _build(node: Mapping[str, Any], path: tuple[int, ...], parent_receiver: str, *, is_root: bool) -> Route:
    receiver = str(node.get("receiver") or parent_receiver)
    matchers = () if is_root else tuple(matchers_of(node))
    children_raw = node.get("routes") or []
    children = tuple(_build(child, (*path, index), receiver, is_root=False) for index, child in enumerate(children_raw))
    return Route(path, receiver, matchers, bool(node.get("continue", False)), children, node)


def describe_matchers(matchers: tuple[Matcher, ...] | list[Matcher]) -> str:
    """``{severity=~"warning|critical", type=~"user|infra"}``; ``{}`` when there are none."""
    return "{" + ", ".join(str(m) for m in matchers) + "}"


def match_routes(route: Route, labels: Mapping[str, str]) -> list[Route]:
    """The routes that deliver ``labels``, like Alertmanager's ``Route.Match``."""
    if not all(m.matches(labels) for m in route.matchers):
        return []
    delivered: list[Route] = []
    for child in route.children:
        found = match_routes(child, labels)
        delivered.extend(found)
        if found and not child.continue_:
            break
    return delivered or [route]


def route_alert(config: Mapping[str, Any], labels: Mapping[str, str]) -> list[RouteMatch]:
    """The receivers an alert with ``labels`` reaches, in Alertmanager's order (duplicates kept, as amtool).

    Each :class:`RouteMatch` names the route that delivers and its matchers, for messages.
    """
    tree = build_tree(config)
    return [
        RouteMatch(route.receiver, route.path, describe_matchers(route.matchers))
        for route in match_routes(tree, labels)
    ]
