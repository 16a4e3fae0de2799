"""Where a live run reads what the alerting stack did, behind one protocol for every backend.

The twin reads its own Prometheus, Alertmanagers and capture webhook on loopback; a Kubernetes backend reads the
cluster's through the API server's proxy or given URLs. Either way a read that fails (a 503 while a pod restarts,
a timeout) answers ``None`` and the watcher retries at its next poll.
"""

from __future__ import annotations

from typing import Any, Protocol

#: One captured notification: ``at`` (the backend's clock, seconds), ``path`` (``/r/<set-up>/<receiver>``, or
#: ``/r/cluster/<namespace>`` for an existing cluster's capture route) and the webhook ``payload``.
CapturedEntry = dict[str, Any]


class AlertSources(Protocol):
    """The three things a run watches."""

    def prometheus_alerts(self) -> list[tuple[dict[str, str], str]] | None:
        """``(labels, state)`` of every alert Prometheus holds (``pending`` or ``firing``); None: not read."""
        ...

    def alertmanager_alerts(self) -> list[tuple[str | None, list[dict[str, Any]]]] | None:
        """Per Alertmanager, ``(set-up, alerts)``: the pack's set-up name it runs (None: the profile's first
        routing set-up) and its ``/api/v2/alerts``; None: not read."""
        ...

    def captured(self, since: int) -> tuple[list[CapturedEntry], int] | None:
        """Entries the capture webhook holds from index ``since``, and the next index; None: not read."""
        ...
