"""The capture webhook: an HTTP server on 127.0.0.1 that records every notification Alertmanager sends.

Each receiver of each Alertmanager set-up posts to its own path ``/r/<setup>/<receiver>`` (see
:mod:`conformance.routing.capture`), so a record says which receiver was notified. Every payload is checked against
the Alertmanager webhook format (version ``"4"``); a payload that breaks it is still recorded, with its problems.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote

from conformance.model.run import Notification
from conformance.observe.payload import payload_problems
from conformance.twin.httpserver import LoopbackHTTPServer


@dataclass
class Captured:
    """A recorded notification: the set-up and receiver whose path it reached, and any format problems."""

    setup: str
    notification: Notification
    problems: list[str] = field(default_factory=list)
    sender: str = ""  # the Alertmanager replica that posted it (its ``?sender=`` query), when it says

    @property
    def receiver(self) -> str:
        return self.notification.receiver


class CaptureServer:
    """Records notifications posted to ``/r/<setup>/<receiver>``; ``at_s`` is seconds on ``clock``.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._records: list[Captured] = []
        self._rejected: list[str] = []
        self._server = LoopbackHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> CaptureServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="capture-webhook", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket. Safe to call twice."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> CaptureServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def records(self) -> list[Captured]:
        """A copy of everything recorded so far, in arrival order."""
        with self._lock:
            return list(self._records)

    def rejected(self) -> list[str]:
        """Requests that were not notifications at all (wrong path, not JSON)."""
        with self._lock:
            return list(self._rejected)

    def _record(self, path: str, body: bytes, sender: str = "") -> int:
        at = self._clock()
        parts = path.split("/")
        if len(parts) != 4 or parts[1] != "r":
            with self._lock:
                self._rejected.append(f"POST {path}: not a capture path /r/<setup>/<receiver>")
            return 404
        setup, receiver = unquote(parts[2]), unquote(parts[3])
        try:
            payload = json.loads(body)
        except ValueError as error:
            with self._lock:
                self._rejected.append(f"POST {path}: body is not JSON ({error})")
            return 400
        problems = payload_problems(payload)
        if isinstance(payload, dict) and payload.get("receiver") not in (None, receiver):
            problems.append(f"receiver: payload names {payload.get('receiver')!r}, posted to {receiver!r}")
        good = isinstance(payload, dict)
        alerts = payload.get("alerts") if good else None
        notification = Notification(
            at_s=at,
            receiver=receiver,
            status=str(payload.get("status", "")) if good else "",
            payload=payload if good else {"raw": payload},
            alerts=[a for a in alerts if isinstance(a, dict)] if isinstance(alerts, list) else [],
        )
        with self._lock:
            self._records.append(Captured(setup, notification, problems, sender))
        return 200

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                sender = (parse_qs(query).get("sender") or [""])[0]
                code = capture._record(path, body, sender)
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                # Alertmanager posts often; the records are the log.
                return

        return Handler
