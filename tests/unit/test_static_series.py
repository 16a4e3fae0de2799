"""promtool value notation and selector extraction."""

from __future__ import annotations

import pytest

from conformance.static.series import STALE, Gap, Run, Selector, encode_values, selectors_in, series_text


@pytest.mark.parametrize(
    ("values", "text"),
    [
        (["1", "1", "1"], "1x2"),
        ([None, None, "2"], "_x2 2"),
        (["1", STALE, None, None, "3"], "1 stale _x2 3"),
        (["5"], "5"),
        ([STALE, STALE], "stale stale"),
    ],
)
def test_encode_values_uses_promtool_expansion(values: list[str | None], text: str) -> None:
    assert encode_values(values) == text


@pytest.mark.parametrize(
    ("values", "text"),
    [
        # A 30-day steady stretch of a counter is one token, not 86,400 numbers.
        ([Run(0.0, 6.0, 86_400)], "0+6x86399"),
        ([Run(5.0, 0.0, 3), Gap(2), 7.0], "5x2 _x2 7"),
        ([1.0, 2.0, 3.0, 4.0, 4.0], "1+1x3 4"),
        ([10.0, 8.0, 6.0], "10-2x2"),
        # Fractional steps are written out: promtool sums a+bxN step by step, which could end above the next
        # sample and look like a counter reset to rate().
        ([Run(0.5, 0.25, 3)], "0.5 0.75 1"),
        ([0.5, 1.0, 1.5], "0.5 1 1.5"),
    ],
)
def test_encode_values_writes_steady_stretches_compactly(values: list[object], text: str) -> None:
    assert encode_values(values) == text  # type: ignore[arg-type]


def test_series_text_escapes_and_sorts() -> None:
    key = (("__name__", "m"), ("b", 'x"y'), ("a", "1"))
    assert series_text(key) == 'm{a="1",b="x\\"y"}'


def test_selectors_read_names_and_all_match_operators() -> None:
    (selector,) = selectors_in(['up{job!="x",a=~"b.*",c!~"d",e="f"}'])
    assert selector.name == "up"
    assert selector.matchers == (("job", "!=", "x"), ("a", "=~", "b.*"), ("c", "!~", "d"), ("e", "=", "f"))
    assert selector.matches({"__name__": "up", "job": "y", "a": "bz", "c": "q", "e": "f"})
    assert not selector.matches({"__name__": "up", "job": "x", "a": "bz", "c": "q", "e": "f"})
    assert not selector.matches({"__name__": "up", "job": "y", "a": "zb", "c": "q", "e": "f"})


def test_alerts_series_are_left_to_promtool() -> None:
    assert selectors_in(['count(ALERTS{alertstate="firing"}) > 0']) == []


def test_nameless_selector_matches_on_name_regex() -> None:
    (selector,) = selectors_in(['{__name__=~"kube_.*"}'])
    assert selector == Selector(None, (("__name__", "=~", "kube_.*"),))
    assert selector.matches({"__name__": "kube_x"})
    assert not selector.matches({"__name__": "up"})
