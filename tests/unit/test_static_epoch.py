"""Depth 3's promtool reads the clock at the simulated cluster's epoch (conformance.static.epoch)."""

from __future__ import annotations

import promql_parser

from conformance.static.epoch import at_epoch


def test_time_and_timestamp_gain_the_epoch() -> None:
    shifted = at_epoch("time() - max by (job_name) (kube_job_status_start_time) > 43200", 1_700_000_000)
    assert shifted.startswith("(time() + 1700000000) - max by (job_name)")
    assert shifted.endswith("> 43200")
    both = at_epoch("time() - timestamp(up) > 5", 1_700_000_000)
    # The difference of two clock readings is unchanged.
    assert both == "(time() + 1700000000) - (timestamp(up) + 1700000000) > 5"
    promql_parser.parse(both)


def test_an_expression_without_the_clock_is_left_as_written() -> None:
    expr = 'rate(kube_state_metrics_list_total{result="error"}[5m]) > 0.01'
    assert at_epoch(expr, 1_700_000_000) == expr
    assert at_epoch("time() > 5", 0) == "time() > 5"
