"""When Prometheus stamped a scrape that reaches the cluster server a moment later.

Prometheus scrapes each target on a fixed grid (its offset, then every interval) and stamps the samples with the
grid time (``--scrape.adjust-timestamps`` rounds the few milliseconds of timer jitter away), not with the time
the target answered. The twin's cluster server is Python, shared by every lane and replica of a run: on a loaded
2-core machine a request waits for it tens to hundreds of milliseconds, and at a time scale of 20 a third of a
second is seven virtual seconds. Answered with the values of the moment it is served, a counter stamped on a
regular grid then grows by a jittered amount each scrape (±20 % was measured), its ``rate()`` wobbles, and an
alert whose expression crosses its threshold slowly flickers and restarts its ``for``.

So the server learns each scraper's grid per target from the arrivals (the earliest arrival relative to the
grid is the one that waited least) and answers with the values of the grid time the request belongs to.
"""

from __future__ import annotations

#: An arrival this much of an interval before the learned grid point moves the grid earlier (the first arrivals
#: waited too); any later arrival belongs to the grid point before it.
_EARLY_FRACTION = 0.25


class ScrapeGrid:
    """The scrape times of every (target, scraper), learned from when their requests arrive (wall seconds)."""

    def __init__(self, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"a scrape interval must be positive, not {interval_s}")
        self.interval_s = interval_s
        self._anchors: dict[tuple[str, str], float] = {}

    def stamped_at(self, target: str, scraper: str, arrival_s: float) -> float:
        """The grid time of the scrape of ``target`` by ``scraper`` that arrived at ``arrival_s`` (never later
        than the arrival)."""
        key = (target, scraper)
        anchor = self._anchors.get(key)
        if anchor is None:
            self._anchors[key] = arrival_s
            return arrival_s
        behind = (arrival_s - anchor) % self.interval_s
        if behind > self.interval_s * (1.0 - _EARLY_FRACTION):
            # Earlier in its interval than any arrival before: that one had waited. The grid moves to this one.
            self._anchors[key] = arrival_s
            return arrival_s
        return arrival_s - behind
