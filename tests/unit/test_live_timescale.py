"""Time scaling: expressions rewritten on the syntax tree, durations on a millisecond grid."""

from __future__ import annotations

from typing import Any

import promql_parser
import pytest

from conformance.errors import PromQLError
from conformance.timescale import scale_duration_text, scale_expr, scale_seconds


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            "increase(kube_pod_container_status_restarts_total[1h]) > 3",
            "increase(kube_pod_container_status_restarts_total[3m]) > 3",
        ),
        ('sum(rate(x{a="b"}[5m] offset 1m)) > 3', 'sum((rate(x{a="b"}[15s] offset 3s) / 20)) > 3'),
        ("y offset 30s > 0", "y offset 1s500ms > 0"),
        ("max_over_time(up[10m:30s]) < 1", "max_over_time((up)[30s:1s500ms]) < 1"),
        ("predict_linear(free[6h], 4 * 3600) < 0", "predict_linear(free[18m], (4 * 3600) / 20) < 0"),
        ("irate(c[2m]) > 1", "(irate(c[6s]) / 20) > 1"),
        ('count(ALERTS{alertstate="firing"}) > 0', 'count(ALERTS{alertstate="firing"}) > 0'),
        ("x @ start() offset 1m", "x @ start() offset 3s"),
    ],
)
def test_scale_expr(expr: str, expected: str) -> None:
    scaled = scale_expr(expr, 20)
    assert scaled == expected
    promql_parser.parse(scaled)  # still valid PromQL


def test_scale_one_is_identity() -> None:
    assert scale_expr("rate(x[5m]) > 1", 1) == "rate(x[5m]) > 1"


def test_sub_second_durations_survive() -> None:
    assert scale_expr("avg_over_time(x[30s])", 40) == "avg_over_time(x[750ms])"


def test_bad_expression_names_place() -> None:
    with pytest.raises(PromQLError, match=r"rules.yml: line 4: expression does not parse"):
        scale_expr("rate(x[5m] >", 20, source="rules.yml", place="line 4")


def test_durations() -> None:
    assert scale_duration_text("5m", 20) == "15s"
    assert scale_duration_text("4h", 20) == "12m"
    assert scale_seconds(0.0, 20) == 0.0
    assert scale_seconds(0.01, 1000) == 0.001  # never rounds a real duration to zero


def test_label_values_with_escapes_survive_scaling() -> None:
    """kube-prometheus's burn-rate rules match ``le=~"1(\\.0)?"``: the backslash must come back escaped."""
    import promql_parser

    scaled = scale_expr(r'rate(x{le=~"1(\\.0)?", q="a\"b"}[1d] offset 1h)', 20)
    assert "[1h12m] offset 3m) / 20" in scaled
    tree: Any = promql_parser.parse(scaled)  # (rate(...) / 20)
    selector = tree.expr.lhs.args[0].vector_selector
    values = {m.name: m.value for m in selector.matchers.matchers}
    assert values["le"] == r"1(\.0)?" and values["q"] == 'a"b'
    assert scale_expr(r'x{le=~"1(\\.0)?"} offset 5m', 20) == r'x{le=~"1(\\.0)?"} offset 15s'
