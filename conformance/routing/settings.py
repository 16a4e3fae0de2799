"""The notification settings an alert really gets on its way to a receiver, as Alertmanager works them out.

A route's ``group_by``, ``group_wait``, ``group_interval`` and ``repeat_interval`` are inherited from its parent
when it does not set them, down from the root route, which has Alertmanager's defaults. ``send_resolved``
belongs to each integration of the receiver (a ``webhook_configs`` entry ...), with a default per integration
type. :func:`differences` sets these against a document's values in one line each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.model.contract import SettingValue
from conformance.model.durations import format_duration, parse_duration
from conformance.routing.defaults import ROUTE_TIMER_DEFAULTS, SEND_RESOLVED_DEFAULTS

#: Alertmanager's defaults for the root route's timers (seconds) and grouping (none: one group for all).
ROUTE_DEFAULTS: dict[str, SettingValue] = {
    **{key: parse_duration(value) for key, value in ROUTE_TIMER_DEFAULTS.items()},
    "group_by": (),
}


@dataclass(frozen=True)
class Integration:
    """One notifier of a receiver (``webhook_configs[0]``) and whether it sends resolved notifications."""

    where: str
    send_resolved: bool


def route_settings(config: Mapping[str, Any], path: tuple[int, ...]) -> dict[str, SettingValue]:
    """The grouping and timers of the route at ``path`` (indices from the root), inherited as Alertmanager does."""
    node: Mapping[str, Any] = config.get("route") or {}
    settings = dict(ROUTE_DEFAULTS)
    _apply(node, settings)
    for index in path:
        children = node.get("routes") or []
        if index >= len(children):
            break
        node = children[index]
        _apply(node, settings)
    return settings


def _apply(node: Mapping[str, Any], settings: dict[str, SettingValue]) -> None:
    for key in ("group_wait", "group_interval", "repeat_interval"):
        if node.get(key) not in (None, ""):
            settings[key] = parse_duration(node[key])
    if node.get("group_by") is not None:
        settings["group_by"] = tuple(str(label) for label in node["group_by"])


def integrations(config: Mapping[str, Any], receiver: str) -> list[Integration]:
    """Every integration of ``receiver`` (its name in the config) with its effective ``send_resolved``."""
    found: list[Integration] = []
    for definition in config.get("receivers") or []:
        if not isinstance(definition, Mapping) or definition.get("name") != receiver:
            continue
        for kind, default in SEND_RESOLVED_DEFAULTS.items():
            for index, item in enumerate(definition.get(kind) or []):
                value = item.get("send_resolved", default) if isinstance(item, Mapping) else default
                found.append(Integration(f"{kind}[{index}]", bool(value)))
    return found


def show(name: str, value: SettingValue) -> str:
    """A setting's value as a pack would write it: ``30s``, ``[alertname, namespace]``, ``true``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return format_duration(value)


def differences(
    documented: Mapping[str, SettingValue],
    config: Mapping[str, Any],
    path: tuple[int, ...],
    receiver: str,
    shown_receiver: str,
) -> list[str]:
    """One line per documented setting the pack's route at ``path`` to ``receiver`` does not have.

    ``group_by`` compares as a set of labels (order does not change the groups); ``send_resolved`` is checked on
    every integration of the receiver.
    """
    problems: list[str] = []
    effective = route_settings(config, path)
    for name, wanted in documented.items():
        if name == "send_resolved":
            for integration in integrations(config, receiver):
                if integration.send_resolved != wanted:
                    problems.append(
                        f"send_resolved {show(name, integration.send_resolved)} on {shown_receiver} "
                        f"({integration.where}), the document says {show(name, wanted)}"
                    )
            continue
        actual = effective[name]
        same = (
            set(actual) == set(wanted) if isinstance(wanted, tuple) and isinstance(actual, tuple) else actual == wanted
        )
        if not same:
            problems.append(f"{name} {show(name, actual)}, the document says {show(name, wanted)}")
    return problems
