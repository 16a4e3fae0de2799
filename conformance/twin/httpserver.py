"""The HTTP server every loopback listener of the twin runs on (cluster targets, capture webhook, fake API)."""

from __future__ import annotations

from http.server import ThreadingHTTPServer


class LoopbackHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server whose pending connections are never refused under load.

    ``socketserver``'s listen backlog is 5. Every replica of a lane scrapes each of its dozens of targets once
    per scaled interval, the Alertmanager replicas post to the capture webhook together, and on a loaded
    2-core machine the accepting thread waits for the GIL: a full backlog drops the connection, the client's
    TCP retries it a second later, and by then the scrape has timed out (``up`` 0, every series of the target
    stale for one interval: a pending alert starts its ``for`` again on that replica). A deep backlog keeps
    every connection until the accepting thread gets to it.
    """

    request_queue_size = 1024
    daemon_threads = True
