"""The cluster server answers a scrape with the values of the grid time Prometheus stamped it with."""

from __future__ import annotations

import random
import socket

import pytest
import requests

from conformance.testing.toy import ToyCluster
from conformance.twin.exporter import SCRAPER_PARAM, ClusterServer, target_path
from conformance.twin.scrapegrid import ScrapeGrid


def test_delayed_arrivals_are_put_back_on_the_scrapers_grid() -> None:
    grid = ScrapeGrid(1.5)
    rng = random.Random(7)
    phase = 0.4
    # The first arrival waited 0.3 s; later ones wait anything up to 0.6 s, one of them almost nothing.
    delays = [0.3] + [rng.uniform(0.0, 0.6) for _ in range(40)] + [0.001] + [rng.uniform(0.0, 0.6) for _ in range(40)]
    stamped = [grid.stamped_at("t", "p0", phase + k * 1.5 + delay) for k, delay in enumerate(delays)]
    after_best = stamped[delays.index(0.001) :]
    # Once the least-delayed arrival was seen, every scrape is its grid time to within that delay.
    assert all(
        abs(t - (phase + (k + len(stamped) - len(after_best)) * 1.5)) <= 0.001 + 1e-9 for k, t in enumerate(after_best)
    )
    # Never a time after the arrival, never more than one interval before it.
    assert all(0.0 <= phase + k * 1.5 + d - t < 1.5 for k, (d, t) in enumerate(zip(delays, stamped, strict=True)))


def test_each_scraper_has_its_own_grid() -> None:
    grid = ScrapeGrid(1.0)
    grid.stamped_at("t", "replica-0", 10.1)
    grid.stamped_at("t", "replica-1", 10.6)
    assert grid.stamped_at("t", "replica-0", 11.3) == pytest.approx(11.1)
    assert grid.stamped_at("t", "replica-1", 11.8) == pytest.approx(11.6)


def test_an_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        ScrapeGrid(0.0)


def test_the_cluster_server_answers_with_the_values_of_the_stamped_time() -> None:
    # Through HTTP as Prometheus asks: a request that waited 0.3 s is answered with the counter of its grid
    # time, one that came with no wait with the counter of its arrival.
    wall = [100.0]
    cluster = ToyCluster([("toy", "gamma")], rate_per_second=1.0)
    server = ClusterServer(cluster, scale=10.0, scrape_interval_s=1.0, tick_s=3600.0, clock=lambda: wall[0])
    url = f"http://{server.address}{target_path('toy/gamma')}?{SCRAPER_PARAM}=prometheus-0"
    server.start()
    try:

        def counter_at(arrival: float) -> float:
            wall[0] = arrival
            text = requests.get(url, timeout=10).text
            return float(next(line for line in text.splitlines() if line.startswith("toy_requests_total")).split()[-1])

        assert counter_at(100.05) == pytest.approx(0.5)  # the first arrival sets the grid: virtual 0.5 s
        assert counter_at(101.35) == pytest.approx(10.5)  # waited 0.3 s: stamped 101.05, virtual 10.5 s
        assert counter_at(102.05) == pytest.approx(20.5)
    finally:
        server.stop()


def test_a_scrape_abandoned_while_it_waited_is_not_computed() -> None:
    # Prometheus gives up on a scrape after its timeout and closes the connection: a server that fell behind
    # must drop such a request when its turn comes, or it never catches up.
    cluster = ToyCluster([("toy", "gamma")], rate_per_second=1.0)
    server = ClusterServer(cluster, scale=10.0, scrape_interval_s=1.0)
    host, port = server.address.split(":")
    server.start()
    try:
        # The lane is busy (its lock held) while the request comes and its client gives up.
        with server.at_now(), socket.create_connection((host, int(port)), timeout=10) as client:
            client.sendall(f"GET {target_path('toy/gamma')} HTTP/1.0\r\n\r\n".encode())
        answered = requests.get(f"http://{server.address}{target_path('toy/gamma')}", timeout=10)
        assert answered.status_code == 200
        assert server.scrapes("toy/gamma") == 1  # only the request still wanted was computed
    finally:
        server.stop()
