"""The scrape clock of depth 3: off the evaluation grid, jittered, and every case sampled the same way."""

from __future__ import annotations

from itertools import pairwise

import pytest

from conformance.static.clock import ScrapeClock


def test_on_grid_scrapes_at_whole_intervals() -> None:
    clock = ScrapeClock.on_grid(30)
    assert [clock.at(k) for k in range(4)] == [0, 30, 60, 90]
    assert clock.step_s == 30


def test_realistic_scrapes_sit_off_the_grid_with_jitter() -> None:
    clock = ScrapeClock.realistic(30)
    times = [clock.at(k) for k in range(200)]
    offsets = {t - 30 * k for k, t in enumerate(times)}
    assert offsets == {11.0, 12.0, 13.0}  # 40% into the interval, one second either way
    assert all(b > a for a, b in pairwise(times))
    gaps = {b - a for a, b in pairwise(times)}
    assert len(gaps) > 1, "jitter makes the spacing uneven"
    assert all(t % clock.step_s == 0 for t in times)


@pytest.mark.parametrize("seconds", [0, 11, 12, 12.5, 600, 660, 661, 1234.5])
def test_scrape_counts_agree_with_the_scrape_times(seconds: float) -> None:
    clock = ScrapeClock.realistic(30)
    before = clock.scrapes_before(seconds)
    assert all(clock.at(k) < seconds for k in range(before))
    assert clock.at(before) >= seconds
    until = clock.scrapes_until(seconds)
    assert all(clock.at(k) <= seconds for k in range(until))
    assert clock.at(until) > seconds


def test_short_intervals_stay_on_the_grid_and_bad_clocks_are_refused() -> None:
    assert ScrapeClock.realistic(2) == ScrapeClock.on_grid(2)
    with pytest.raises(ValueError, match="leaves the 30s interval"):
        ScrapeClock(30, offset_s=30, jitter_s=1, resolution_s=1)
    with pytest.raises(ValueError, match="not a whole number"):
        ScrapeClock(30, offset_s=0.5, resolution_s=1)
