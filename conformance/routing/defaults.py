"""Alertmanager's defaults that decide when and whether a receiver is notified, where a config is silent."""

from __future__ import annotations

from typing import Any

#: ``send_resolved`` defaults of Alertmanager's integrations (docs/configuration.md).
SEND_RESOLVED_DEFAULTS = {
    "discord_configs": True,
    "email_configs": False,
    "msteams_configs": True,
    "msteamsv2_configs": True,
    "jira_configs": True,
    "opsgenie_configs": True,
    "pagerduty_configs": True,
    "pushover_configs": True,
    "rocketchat_configs": True,
    "slack_configs": False,
    "sns_configs": True,
    "telegram_configs": True,
    "victorops_configs": True,
    "webex_configs": True,
    "webhook_configs": True,
    "wechat_configs": False,
}

#: Alertmanager's defaults for the root route's timers.
ROUTE_TIMER_DEFAULTS = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}

#: Alertmanager's ``--cluster.peer-timeout``: in a cluster, the replica at position ``n`` waits ``n`` times this
#: before it sends a notification no peer has yet recorded as sent.
PEER_TIMEOUT_S = 15.0
#: The peer timeout must exceed the skew between the peers' flushes and the gossip delay, which are process
#: scheduling on a busy machine and do not shrink with the time scale: scaled, it never goes under this.
PEER_TIMEOUT_MIN_WALL_S = 2.0


def peer_timeout_wall_s(scale: float) -> float:
    """Alertmanager's peer timeout in wall seconds at ``scale``: 15 s shrunk with the rest, at least 2 s."""
    return max(PEER_TIMEOUT_S / scale, min(PEER_TIMEOUT_MIN_WALL_S, PEER_TIMEOUT_S))


def send_resolved_of(receiver: dict[str, Any]) -> tuple[bool, tuple[str, ...]]:
    """Whether any integration of ``receiver`` notifies resolved alerts, and the integrations it has."""
    integrations: list[str] = []
    resolved = False
    for key, default in SEND_RESOLVED_DEFAULTS.items():
        for item in receiver.get(key) or []:
            integrations.append(key.removesuffix("_configs"))
            value = item.get("send_resolved", default) if isinstance(item, dict) else default
            resolved = resolved or bool(value)
    return resolved, tuple(integrations)
