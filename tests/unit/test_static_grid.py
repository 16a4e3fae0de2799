"""The time grid depth 3 runs an alert on, chosen from how far back it reads, and what the estimate makes of it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conformance.errors import BudgetError
from conformance.model.durations import format_duration
from conformance.packs.loader import load_pack
from conformance.packs.model import Rule
from conformance.profiles import load_profile
from conformance.static.behaviour import batch_chunks, plan_behaviour
from conformance.static.clock import ScrapeClock
from conformance.static.cost import Budget, check_budget, estimate
from conformance.static.grid import COARSE_LOOKBACK_S, COARSE_STEPS_PER_LOOKBACK, Grid, choose_grid

SLO = Path(__file__).parents[1] / "data" / "slo-30d"
DAY = 86_400.0


def test_ordinary_windows_keep_the_fine_off_grid_clock_and_the_profiles_evaluation() -> None:
    for lookback in (0.0, 600.0, COARSE_LOOKBACK_S):
        assert choose_grid(lookback, 30, 30) == Grid(ScrapeClock.realistic(30), 30)
    assert choose_grid(600, 30, 30).clock.step_s == 1


@pytest.mark.parametrize(
    ("lookback_s", "evaluation_s"),
    [
        (COARSE_LOOKBACK_S + 1, 30),
        (2 * DAY, 30),
        (7 * DAY, 90),
        (30 * DAY, 300),
        (30 * DAY + 3600, 330),
        (365 * DAY, 3660),
    ],
)
def test_long_look_backs_run_on_the_scrape_grid_evaluated_a_8640th_of_their_window(
    lookback_s: float, evaluation_s: float
) -> None:
    grid = choose_grid(lookback_s, 30, 30)
    assert grid.coarse
    assert grid.clock == ScrapeClock.on_grid(30)  # one input step a scrape: a steady stretch is one token
    assert grid.evaluation_s == evaluation_s
    # A window over a recorded series stays under promtool's 10,000 samples a query.
    assert lookback_s / grid.evaluation_s <= COARSE_STEPS_PER_LOOKBACK < 10_000
    assert grid.describe() == f"coarse grid (input every 30s, evaluation every {format_duration(evaluation_s)})"


def test_the_coarse_evaluation_is_a_whole_number_of_the_profiles_and_never_finer() -> None:
    assert choose_grid(30 * DAY, 30, 45).evaluation_s == 315
    assert choose_grid(30 * DAY, 60, 600).evaluation_s == 600


def test_alerts_on_different_evaluation_intervals_never_share_a_promtool_run() -> None:
    fine, coarse = choose_grid(600, 30, 30), choose_grid(30 * DAY, 30, 30)
    grids = {"a": fine, "b": coarse, "c": fine, "d": coarse}
    needs: dict[str, list[Rule]] = {key: [] for key in grids}
    assert batch_chunks(list(grids), needs, 3, grids) == [["a", "c"], ["b", "d"]]
    assert batch_chunks(list(grids), needs, 3) == [["a", "b", "c"], ["d"]]


def test_a_30_day_alert_is_planned_on_the_coarse_grid_and_fits_the_default_budget() -> None:
    profile = load_profile(str(SLO / "profile.yaml"))
    pack = load_pack(profile.pack_path)
    plan = plan_behaviour(profile, pack)
    [key] = plan.grids
    assert plan.grids[key] == Grid(ScrapeClock.on_grid(30), 300, coarse=True)
    assert {clock for _, _, clock in plan.recordings} == {ScrapeClock.on_grid(30)}
    found = estimate(plan, profile, pack)
    check_budget(found, Budget())  # nothing raised
    assert found.seconds < Budget().time_s / 2, found
    # The same cases on the fine grid: 8.4 million input steps a series and 280,000 evaluations of 30 s.
    fine = replace(plan, grids={key: Grid(ScrapeClock.realistic(30), 30)})
    with pytest.raises(BudgetError, match="mostly for ApiAvailabilityBudgetBurn: it reads 30d back"):
        check_budget(estimate(fine, profile, pack), Budget())


def test_a_365_day_window_of_a_scraped_series_is_still_refused_in_one_line(tmp_path: Path) -> None:
    """A window over a scraped series holds a sample a scrape whatever the evaluation grid: a year of them is
    refused (promtool could not evaluate a query of a million samples anyway)."""
    profile = load_profile(str(SLO / "profile.yaml"))
    recorded = 'avg_over_time(job:up:ratio{job="api"}[30d])'
    rules = (SLO / "pack" / "rules.yaml").read_text().replace(recorded, 'avg_over_time(up{job="api"}[365d])')
    (tmp_path / "rules.yaml").write_text(rules)
    pack = load_pack(tmp_path)
    with pytest.raises(BudgetError) as caught:
        check_budget(estimate(plan_behaviour(profile, pack), profile, pack), Budget())
    message = str(caught.value)
    assert "\n" not in message
    assert "mostly for ApiAvailabilityBudgetBurn: it reads 365d back" in message, message
