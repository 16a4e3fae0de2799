"""Re-point an Alertmanager configuration at the capture webhook (the twin and kind alike): receivers re-pointed,
timers scaled, nothing else touched.

Routes, matchers, ``group_by``, inhibitions and ``continue`` are the pack's own and stay as written. What changes:

* every receiver becomes one ``webhook_config`` to its own capture path ``/r/<setup>/<receiver>``, whatever its
  integrations were (email, Slack, PagerDuty ...), so the capture server knows which receiver was notified;
  ``send_resolved`` keeps the value the original integrations had (explicit, or Alertmanager's default for
  that integration);
* ``group_wait``, ``group_interval``, ``repeat_interval`` and ``resolve_timeout`` shrink by the time scale, the
  root route getting Alertmanager's defaults made explicit first so child routes inherit scaled values;
* ``templates`` and ``*_file`` references in ``global`` are dropped: they name files of the vendor's cluster, and
  a webhook renders no template.

:func:`rewrite_config` returns the new config and one :class:`Rewrite` per change, for the report.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from conformance.errors import RoutingConfigError
from conformance.routing.defaults import ROUTE_TIMER_DEFAULTS, send_resolved_of
from conformance.timescale import scale_duration_text

RESOLVE_TIMEOUT_DEFAULT = "5m"


@dataclass(frozen=True)
class Rewrite:
    """One change made to a pack's Alertmanager config: ``where`` (a path in it), ``before`` and ``after``."""

    setup: str
    where: str
    before: str
    after: str

    def describe(self) -> str:
        return f"{self.setup}: {self.where}: {self.before} -> {self.after}"


@dataclass(frozen=True)
class CapturedReceiver:
    """A receiver after the rewrite: its capture path and whether it notifies resolved alerts."""

    setup: str
    receiver: str
    path: str
    send_resolved: bool
    integrations: tuple[str, ...]


def capture_path(setup: str, receiver: str) -> str:
    """``/r/<setup>/<receiver>``, each part URL-quoted (operator receivers contain slashes)."""
    return f"/r/{quote(setup, safe='')}/{quote(receiver, safe='')}"


def rewrite_config(
    setup_name: str, config: dict[str, Any], capture_base_url: str, scale: float, *, source: str = ""
) -> tuple[dict[str, Any], list[CapturedReceiver], list[Rewrite]]:
    """The twin's version of ``config`` (see the module docstring); the input is not modified."""
    out = copy.deepcopy(config)
    rewrites: list[Rewrite] = []
    receivers = out.get("receivers")
    if not isinstance(receivers, list) or not receivers:
        raise RoutingConfigError("the Alertmanager config has no receivers", source=source, place="receivers")
    route = out.get("route")
    if not isinstance(route, dict):
        raise RoutingConfigError("the Alertmanager config has no root route", source=source, place="route")

    captured: list[CapturedReceiver] = []
    for index, receiver in enumerate(receivers):
        name = receiver.get("name") if isinstance(receiver, dict) else None
        if not isinstance(name, str):
            raise RoutingConfigError("a receiver has no name", source=source, place=f"receivers[{index}]")
        resolved, integrations = send_resolved_of(receiver)
        path = capture_path(setup_name, name)
        receivers[index] = {
            "name": name,
            "webhook_configs": [{"url": capture_base_url + path, "send_resolved": resolved, "max_alerts": 0}],
        }
        captured.append(CapturedReceiver(setup_name, name, path, resolved, integrations))
        before = ", ".join(integrations) if integrations else "no integration"
        rewrites.append(Rewrite(setup_name, f"receivers[{name}]", before, f"webhook {path} (send_resolved={resolved})"))

    for key, default in ROUTE_TIMER_DEFAULTS.items():
        if key not in route:
            route[key] = default
    _scale_route(setup_name, route, "route", scale, rewrites)

    glob = out.setdefault("global", {}) or {}
    out["global"] = glob
    timeout = glob.get("resolve_timeout", RESOLVE_TIMEOUT_DEFAULT)
    glob["resolve_timeout"] = _scaled(setup_name, "global.resolve_timeout", timeout, scale, rewrites, source)
    for key in [k for k in glob if k.endswith("_file")]:
        rewrites.append(Rewrite(setup_name, f"global.{key}", str(glob.pop(key)), "dropped (a file of the cluster)"))
    if out.get("templates"):
        rewrites.append(Rewrite(setup_name, "templates", ", ".join(map(str, out.pop("templates"))), "dropped"))
    return out, captured, rewrites


def _scaled(setup: str, where: str, value: Any, scale: float, rewrites: list[Rewrite], source: str) -> str:
    try:
        after = scale_duration_text(value, scale)
    except ValueError as error:
        raise RoutingConfigError(str(error), source=source, place=where) from None
    if scale != 1:
        rewrites.append(Rewrite(setup, where, str(value), after))
    return after


def _scale_route(setup: str, route: dict[str, Any], where: str, scale: float, rewrites: list[Rewrite]) -> None:
    for key in ROUTE_TIMER_DEFAULTS:
        if key in route:
            route[key] = _scaled(setup, f"{where}.{key}", route[key], scale, rewrites, "")
    for index, child in enumerate(route.get("routes") or []):
        if isinstance(child, dict):
            _scale_route(setup, child, f"{where}.routes[{index}]", scale, rewrites)
