"""The simulated cluster served over HTTP to the real Prometheus, on a clock ``time_scale`` times the wall clock.

One server on 127.0.0.1 serves every scrape target at ``/t/<target id>``: the target's exposition in the
Prometheus text format, or ``503`` while the target is down (so Prometheus records ``up == 0``). A clock thread
advances the cluster's virtual time; every scrape and every fault first brings it up to "now", under one lock,
so virtual time only moves forward and the model is never read half-updated.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qs

from conformance.model.scenario import Scenario
from conformance.twin.httpserver import LoopbackHTTPServer
from conformance.twin.scrapegrid import ScrapeGrid


class ScrapeTargetLike(Protocol):
    """What the twin needs of a :class:`conformance.sim.ScrapeTarget`."""

    @property
    def id(self) -> str: ...
    @property
    def job(self) -> str: ...
    @property
    def metrics_path(self) -> str: ...
    @property
    def honor_labels(self) -> bool: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def metric_drop(self) -> str: ...


class ClusterLike(Protocol):
    """What the twin needs of :class:`conformance.sim.SimulatedCluster` (virtual seconds)."""

    def advance_to(self, t: float) -> None: ...
    def apply_fault(self, scenario: Scenario, level: float | None, **timing: float) -> Any: ...
    def revert_fault(self, handle: Any) -> None: ...
    def targets(self) -> Sequence[ScrapeTargetLike]: ...
    def exposition(self, target_id: str, at: float | None = None) -> str | None: ...


#: The query parameter each Prometheus replica's scrape configs carry with its name (``params``).
SCRAPER_PARAM = "scraper"


def _client_gone(connection: socket.socket) -> bool:
    """Whether the client has closed its end (it will read no answer): a pending EOF on the socket."""
    try:
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False  # nothing to read: the client is waiting
    except OSError:
        return True


def target_path(target_id: str) -> str:
    """The target's path on the cluster server: only characters Prometheus passes through unescaped."""
    return "/t/" + re.sub(r"[^A-Za-z0-9._-]", lambda m: f"~{ord(m.group()):02x}", target_id)


class ClusterServer:
    """Serves ``cluster`` on 127.0.0.1; virtual time = start time + (wall seconds since :meth:`start`) x ``scale``."""

    def __init__(
        self,
        cluster: ClusterLike,
        scale: float,
        *,
        scrape_interval_s: float | None = None,
        tick_s: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``scrape_interval_s``: the scrapers' interval (wall seconds); with it every scrape is answered with the
        values of the time Prometheus stamps it with (:mod:`conformance.twin.scrapegrid`), not of the moment the
        server gets to it."""
        self.cluster = cluster
        self._grid = ScrapeGrid(scrape_interval_s) if scrape_interval_s else None
        self.scale = scale
        self._tick_s = tick_s
        self._clock = clock
        self._lock = threading.RLock()
        self._started_at: float | None = None
        self._origin = 0.0  # virtual seconds at start
        self._started_epoch = 0.0  # Unix time at start, for timestamps of samples written outside Prometheus
        self._virtual = 0.0
        self._stop = threading.Event()
        self._scrapes: dict[str, int] = {}
        self._paths = {target_path(target.id): target.id for target in cluster.targets()}
        self._server = LoopbackHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``, as a Prometheus target."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self, at_virtual_s: float = 0.0) -> ClusterServer:
        """Serve, with the cluster's clock running on from ``at_virtual_s`` (where a backfilled warm-up ended)."""
        if at_virtual_s < self._virtual:
            raise ValueError(f"virtual time only moves forward: at {self._virtual}, asked to start at {at_virtual_s}")
        if at_virtual_s > 0:
            self.cluster.advance_to(at_virtual_s)  # a no-op when the backfill already took it there
            self._paths = {target_path(target.id): target.id for target in self.cluster.targets()}
        self._virtual = self._origin = at_virtual_s
        self._started_epoch = time.time()
        self._started_at = self._clock()
        serve = threading.Thread(target=self._server.serve_forever, name="twin-cluster-http", daemon=True)
        tick = threading.Thread(target=self._run_clock, name="twin-cluster-clock", daemon=True)
        self._threads = [serve, tick]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop the clock and the server. Safe to call twice."""
        self._stop.set()
        if self._threads:
            self._server.shutdown()
            for thread in self._threads:
                thread.join(timeout=5)
            self._threads = []
        self._server.server_close()

    def virtual_now(self) -> float:
        """The cluster's virtual seconds now (its start time before :meth:`start`)."""
        return self._virtual_at(self._clock())

    def _virtual_at(self, wall_s: float) -> float:
        """The cluster's virtual seconds at ``wall_s`` of the server's clock (its start time before :meth:`start`)."""
        if self._started_at is None:
            return self._virtual
        return self._origin + (wall_s - self._started_at) * self.scale

    def unix_time_of(self, virtual_s: float) -> float:
        """The Unix time (wall clock) at which the running server's cluster is, was or will be at ``virtual_s``."""
        if self._started_at is None:
            raise ValueError("the cluster server has not started: its virtual clock has no wall time yet")
        return self._started_epoch + (virtual_s - self._origin) / self.scale

    @contextlib.contextmanager
    def at_now(self) -> Iterator[ClusterLike]:
        """The cluster, brought up to the current virtual time, held under the lock for the block."""
        with self._lock:
            self._advance()
            yield self.cluster

    def scrapes(self, target_id: str) -> int:
        """How often Prometheus has scraped the target so far (down answers included)."""
        with self._lock:
            return self._scrapes.get(target_id, 0)

    def _advance(self) -> None:
        now = self.virtual_now()
        if now > self._virtual:
            self.cluster.advance_to(now)
            self._virtual = now

    def _run_clock(self) -> None:
        while not self._stop.wait(self._tick_s):
            with self._lock:
                self._advance()

    def _serve(
        self, path: str, scraper: str, arrival: float, wanted: Callable[[], bool] = lambda: True
    ) -> tuple[int, str] | None:
        """The answer to ``scraper``'s request for ``path`` that reached the server at ``arrival`` (its clock);
        None when the client no longer ``wanted`` it once its turn came (a scrape that timed out waiting)."""
        target_id = self._paths.get(path)
        if target_id is None:
            return 404, f"no target at {path}\n"
        with self._lock:
            if not wanted():
                # Computed anyway, it would go nowhere and make every request queued behind it wait longer:
                # a server that falls behind would never catch up.
                return None
            self._advance()
            self._scrapes[target_id] = self._scrapes.get(target_id, 0) + 1
            at = None
            if self._grid is not None and self._started_at is not None:
                stamped = self._grid.stamped_at(target_id, scraper, arrival)
                at = self._virtual_at(stamped)
            try:
                text = self.cluster.exposition(target_id, at)
            except KeyError:
                # The pod behind a configured target is gone (evicted, replaced): it no longer answers.
                text = None
        if text is None:
            return 503, "target down (simulated)\n"
        return 200, text

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                arrival = server._clock()  # before anything else: the least of the wait the grid must undo
                path, _, query = self.path.partition("?")
                scraper = (parse_qs(query).get(SCRAPER_PARAM) or [""])[0]
                answer = server._serve(path, scraper, arrival, lambda: not _client_gone(self.connection))
                if answer is None:
                    return
                code, text = answer
                body = text.encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # Prometheus gives up on a scrape slower than its timeout (one scaled interval): nobody to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
