"""Boundary levels and timing bounds of behaviour cases."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conformance.model.contract import AlertContract, DocumentedDuration, Source, Threshold
from conformance.model.scenario import Scenario, Target
from conformance.static.cases import Timing, boundary_levels, build_cases, latest_fire_s, resolve_bound_s

SOURCE = Source("seed.txt", "section", "quote")
TIMING = Timing(scrape_s=15, evaluation_s=15, for_s=300, for_documented=True, window_s=600)


@pytest.mark.parametrize(
    ("op", "value", "integer", "expected"),
    [
        (">", 0.9, False, (0.918, 0.882)),
        ("<", 0.1, False, (0.098, 0.102)),
        (">", 2, True, (3, 2)),
        (">=", 2, True, (2, 1)),
        ("<", 1, True, (0, 1)),
        ("<=", 0, True, (0, 1)),
        (">", 0, True, (1, 0)),
        (">=", 0, True, (0, None)),
    ],
)
def test_boundary_levels_sit_either_side_of_the_threshold(
    op: str, value: float, integer: bool, expected: tuple[float, float | None]
) -> None:
    threshold = Threshold("q", op, value, True, integer=integer)  # type: ignore[arg-type]
    fire, healthy = boundary_levels(threshold)
    assert fire == pytest.approx(expected[0])
    assert healthy == (None if expected[1] is None else pytest.approx(expected[1]))
    assert threshold.fires(fire)
    if healthy is not None:
        assert not threshold.fires(healthy)


def test_latest_fire_adds_mechanics_window_for_and_sampling() -> None:
    assert latest_fire_s(40, TIMING) == 40 + 600 + 300 + 15 + 30
    assert resolve_bound_s(TIMING) == 600 + 15 + 30 + 15


def _alert(fault: str, threshold: Threshold | None, window: float | None = 600) -> AlertContract:
    return AlertContract(
        name="A",
        severity="warning",
        meaning="m",
        source=SOURCE,
        threshold=threshold,
        for_=DocumentedDuration(300, True),
        window=DocumentedDuration(window, True) if window else None,
        receivers={},
        scenarios=(Scenario("s", fault, Target(namespace="n", workload="w", container="c")),),
    )


def test_crash_loop_gets_fire_healthy_and_spread_cases() -> None:
    alert = _alert("crash-loop", Threshold("restarts", ">", 2, True, integer=True))
    cases = {case.kind: case for case in build_cases(alert, TIMING, warmup_s=900)}
    assert set(cases) == {"fire", "healthy", "spread"}
    assert cases["fire"].level == 3 and cases["healthy"].level == 2 and cases["spread"].level == 3
    assert cases["fire"].fault_timing == {"over_s": 300}
    # Three restarts evenly over the spread span: first and last are 2/3 of it apart, more than the window.
    span = cases["spread"].fault_timing["over_s"] * 2 / 3
    assert span > TIMING.window_s
    assert cases["fire"].earliest_fire_s == 300
    assert cases["fire"].latest_fire_s == 300 + 600 + 300 + 45
    assert cases["fire"].hold_s >= 1.25 * cases["fire"].latest_fire_s


def test_fault_without_level_only_has_a_fire_case() -> None:
    alert = _alert("cordon-node", None, window=None)
    cases = build_cases(alert, TIMING, warmup_s=600)
    assert [case.kind for case in cases] == ["fire"]
    assert cases[0].level is None


def test_undocumented_for_sets_no_earliest_bound() -> None:
    timing = Timing(15, 15, 300, False, 0)
    alert = _alert("target-down", None, window=None)
    (case,) = build_cases(alert, timing, warmup_s=600)
    assert case.earliest_fire_s is None


@pytest.mark.parametrize(
    ("expr", "seconds"),
    [
        ("rate(x[5m])", 300),
        ("rate(x[5m] offset 1h)", 3900),
        ("max_over_time(rate(x[1m])[20m:1m])", 1260),
        ("max_over_time(rate(x[1m])[20m:1m] offset 5m) > on() y offset 2h", 7200),
        ("up == 0", 0),
    ],
)
def test_lookback_adds_up_along_each_path(expr: str, seconds: float) -> None:
    import promql_parser

    from conformance.static.behaviour import lookback_s

    assert lookback_s(promql_parser.parse(expr)) == seconds


def test_a_documented_for_on_a_windowed_quantity_gets_an_immediate_case_far_past_the_threshold() -> None:
    alert = _alert("error-rate", Threshold("error_ratio", ">", 0.05, True))
    cases = {case.kind: case for case in build_cases(alert, TIMING, warmup_s=900)}
    assert set(cases) == {"fire", "healthy", "immediate"}
    immediate = cases["immediate"]
    assert immediate.must_fire
    assert immediate.level == pytest.approx(0.051 + (1 - 0.051) * 0.9)
    assert immediate.earliest_fire_s == TIMING.for_s
    undocumented = Timing(15, 15, 300, False, 600)
    assert "immediate" not in {case.kind for case in build_cases(alert, undocumented, warmup_s=900)}
    gauge = _alert("memory-near-limit", Threshold("container_memory_limit_ratio", ">", 0.9, True), window=None)
    assert "immediate" not in {case.kind for case in build_cases(gauge, TIMING, warmup_s=900)}


@pytest.mark.parametrize(
    ("fault", "threshold", "far"),
    [
        ("error-rate", Threshold("error_ratio", ">", 0.05, True), 0.051 + 0.949 * 0.9),
        ("network-flood", Threshold("transmit_bytes_per_second", ">", 1e9, True), 1.02e10),
        ("error-counter", Threshold("errors_per_second", ">", 0, True), 0.2),
        ("metric-rate-drop", Threshold("rate_per_second", "<", 0.05, True, margin=0.2), 0.004),
    ],
)
def test_far_levels_stay_physical(fault: str, threshold: Threshold, far: float) -> None:
    from conformance.model.scenario import FAULT_KINDS
    from conformance.static.cases import far_level

    assert far_level(threshold, FAULT_KINDS[fault]) == pytest.approx(far)


def test_state_faults_must_stay_firing_and_bursts_need_not() -> None:
    state = build_cases(_alert("cordon-node", None, window=None), TIMING, warmup_s=600)[0]
    assert state.sustain_s is not None and state.sustain_s >= 4 * TIMING.evaluation_s
    assert state.hold_s >= state.latest_fire_s + state.sustain_s  # type: ignore[operator]
    burst = build_cases(_alert("crash-loop", Threshold("restarts", ">", 2, True, integer=True)), TIMING, 900)
    assert all(case.sustain_s is None for case in burst)


def test_a_state_fault_must_keep_the_alert_firing_unless_the_alert_reads_its_trend() -> None:
    """A filled volume holds its level: an alert on the free share must stay firing until the revert, but one on
    predict_linear (kube-prometheus's "fills up within four days") rightly stops once the filling stops."""
    from dataclasses import replace

    from conformance.static.behaviour import _reads_trend

    alert = _alert("fill-volume", Threshold("volume_available_ratio", "<", 0.15, True))
    (state,) = [case for case in build_cases(alert, TIMING, warmup_s=900) if case.kind == "fire"]
    assert state.sustain_s is not None and state.sustain_s > 0
    trend_timing = replace(TIMING, reads_trend=True)
    (trend,) = [case for case in build_cases(alert, trend_timing, warmup_s=900) if case.kind == "fire"]
    assert trend.sustain_s is None
    assert _reads_trend("predict_linear(kubelet_volume_stats_available_bytes[6h], 4 * 24 * 3600) < 0")
    assert not _reads_trend("kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes < 0.03")
    assert not _reads_trend("rate(http_requests_total{code=~'5..'}[5m]) > 0.05")


def test_a_silent_scenario_is_one_case_that_must_never_fire_at_its_own_level() -> None:
    """``expect: silent``: the document says this failure must not raise the alert; no firing bounds apply."""
    alert = _alert("memory-near-limit", Threshold("container_memory_limit_ratio", ">", 0.9, True), window=None)
    normal = Scenario(
        "normal", "memory-near-limit", Target(namespace="n", workload="w", container="c"), expect="silent", level=0.7
    )
    inside = replace(normal, id="inside", level=None)
    cases = build_cases(replace(alert, scenarios=(normal, inside)), TIMING, 900)
    assert [(c.scenario.id, c.kind, c.level) for c in cases] == [
        ("normal", "silent", 0.7),
        ("inside", "silent", pytest.approx(0.882)),
    ]
    fire = build_cases(alert, TIMING, 900)[0]
    for case in cases:
        assert not case.must_fire
        assert (case.earliest_fire_s, case.latest_fire_s, case.sustain_s) == (None, None, None)
        assert case.hold_s == fire.hold_s  # watched as long as the firing case would be


def test_a_silent_scenario_of_a_fault_without_level_has_no_level() -> None:
    alert = _alert("cordon-node", None, window=None)
    cordon = Scenario("cordon", "cordon-node", Target(node="worker-1"), expect="silent")
    [case] = build_cases(replace(alert, scenarios=(cordon,)), TIMING, 900)
    assert (case.kind, case.level, case.must_fire) == ("silent", None, False)


def test_an_always_firing_alert_has_one_case_from_the_first_sample_that_must_keep_firing() -> None:
    alert = _alert("none", None, window=None)
    heartbeat = Scenario("none", "none", Target())
    [case] = build_cases(replace(alert, scenarios=(heartbeat,)), TIMING, 900)
    assert (case.kind, case.fault_at_s, case.level) == ("fire", 0.0, None)
    assert case.earliest_fire_s is None and case.resolve_by_s is None
    assert case.latest_fire_s == 600 + 300 + 45  # the look-back filled, the documented for, sampling
    assert case.sustain_s is not None and case.hold_s == case.latest_fire_s + case.sustain_s


def test_a_gradual_node_fill_moves_the_latest_bound_by_its_fill_time() -> None:
    """fill-node-filesystem with fill_s: the level comes only at the end of the fill, so the latest acceptable
    first firing moves by as much, and the fill reaches the simulated cluster as its timing."""
    alert = _alert("fill-node-filesystem", Threshold("node_filesystem_available_ratio", "<", 0.05, True), None)
    node = Target(node="n1")
    at_once = replace(alert, scenarios=(Scenario("s", "fill-node-filesystem", node),))
    gradual = replace(alert, scenarios=(Scenario("s", "fill-node-filesystem", node, params={"fill_s": 3600}),))
    (now,) = [c for c in build_cases(at_once, TIMING, 900) if c.kind == "fire"]
    (later,) = [c for c in build_cases(gradual, TIMING, 900) if c.kind == "fire"]
    assert now.fault_timing == {} and later.fault_timing == {"fill_s": 3600.0}
    assert later.latest_fire_s == pytest.approx((now.latest_fire_s or 0) + 3600)


def test_an_unsynchronised_clock_waits_for_the_kernels_maxerror_climb() -> None:
    """NodeClockNotSynchronising reads maxerror >= 16 s, which the kernel reaches ~31979 s after synchronisation
    stopped (kernel/time/ntp.c): that climb is part of the latest bound; a skewed, synchronised clock has none."""
    alert = _alert("clock-drift", None, None)
    unsynced = Scenario("s", "clock-drift", Target(node="n1"), params={"synchronised": "false"})
    (case,) = build_cases(replace(alert, scenarios=(unsynced,)), TIMING, 900)
    assert case.level is None
    assert case.latest_fire_s == pytest.approx(latest_fire_s((16 - 0.0105) / 0.0005, replace(TIMING, window_s=600)))
    skewed = replace(alert, threshold=Threshold("clock_offset_seconds", ">", 0.05, True))
    fire = next(
        c
        for c in build_cases(replace(skewed, scenarios=(Scenario("s", "clock-drift", Target(node="n1")),)), TIMING, 900)
        if c.kind == "fire"
    )
    assert fire.latest_fire_s == pytest.approx(latest_fire_s(0, TIMING))
