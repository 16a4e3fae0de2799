"""Static checks of an Alertmanager config, with the file and place of the first problem.

The checks Alertmanager itself makes when it loads a config (so a failure here is a config Alertmanager would
refuse), reported with a line number when the config came from a YAML document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from conformance.errors import RoutingConfigError
from conformance.routing.matchers import MatcherError, matchers_of
from conformance.yamlio import Document, format_path

_Path = tuple[str | int, ...]


def validate_config(
    config: Any, source: str, *, document: Document | None = None, base: Sequence[str | int] = ()
) -> None:
    """Raise :class:`RoutingConfigError` naming ``source`` and the place of the first problem.

    ``document`` (with ``base``, the config's path inside it) gives line numbers. Checked: a root route with a
    receiver and without matchers or ``continue``; receiver names unique; every route naming a defined
    receiver; every matcher (``match``, ``match_re``, ``matchers``) and regex valid, in routes and inhibit
    rules; every ``mute_time_intervals``/``active_time_intervals`` name defined.
    """

    def fail(message: str, path: _Path) -> RoutingConfigError:
        full = (*base, *path)
        place = document.place(full) if document is not None else (format_path(full) or "top level")
        return RoutingConfigError(message, source=source, place=place)

    if not isinstance(config, Mapping):
        raise fail("an Alertmanager config must be a mapping with route and receivers", ())
    receivers = config.get("receivers") or []
    if not isinstance(receivers, list):
        raise fail("receivers must be a list", ("receivers",))
    names: set[str] = set()
    for index, receiver in enumerate(receivers):
        if not isinstance(receiver, Mapping) or not receiver.get("name"):
            raise fail("a receiver needs a name", ("receivers", index))
        name = str(receiver["name"])
        if name in names:
            raise fail(f'notification config name "{name}" is not unique', ("receivers", index, "name"))
        names.add(name)
    intervals = {
        str(item.get("name"))
        for key in ("time_intervals", "mute_time_intervals")
        for item in config.get(key) or []
        if isinstance(item, Mapping)
    }
    route = config.get("route")
    if not isinstance(route, Mapping):
        raise fail("no route provided in config", ("route",))
    if not route.get("receiver"):
        raise fail("root route must specify a default receiver", ("route",))
    if route.get("match") or route.get("match_re") or route.get("matchers"):
        raise fail("root route must not have any matchers", ("route",))
    if route.get("continue"):
        raise fail("cannot have continue in root route", ("route", "continue"))
    _check_route(route, ("route",), names, intervals, fail)
    for index, rule in enumerate(config.get("inhibit_rules") or []):
        path: _Path = ("inhibit_rules", index)
        if not isinstance(rule, Mapping):
            raise fail("an inhibit rule must be a mapping", path)
        for side in ("source_", "target_"):
            try:
                matchers_of(rule, side)
            except MatcherError as error:
                raise fail(f"bad {side.rstrip('_')} matcher: {error}", (*path, f"{side}matchers")) from None
        equal = rule.get("equal") or []
        if not isinstance(equal, list):
            raise fail("equal must be a list of label names", (*path, "equal"))


def _check_route(route: Mapping[str, Any], path: _Path, receivers: set[str], intervals: set[str], fail: Any) -> None:
    receiver = route.get("receiver")
    if receiver and str(receiver) not in receivers:
        raise fail(f'undefined receiver "{receiver}" used in route', (*path, "receiver"))
    try:
        matchers_of(route)
    except MatcherError as error:
        key = next((k for k in ("matchers", "match_re", "match") if route.get(k)), "matchers")
        raise fail(f"bad matcher: {error}", (*path, key)) from None
    for key in ("mute_time_intervals", "active_time_intervals"):
        for index, name in enumerate(route.get(key) or []):
            if str(name) not in intervals:
                raise fail(f'undefined time interval "{name}" used in route', (*path, key, index))
    children = route.get("routes") or []
    if not isinstance(children, list):
        raise fail("routes must be a list", (*path, "routes"))
    for index, child in enumerate(children):
        if not isinstance(child, Mapping):
            raise fail("a route must be a mapping", (*path, "routes", index))
        _check_route(child, (*path, "routes", index), receivers, intervals, fail)
