"""promtool value notation and selector extraction."""

from __future__ import annotations

import pytest

from conformance.static.series import STALE, Selector, encode_values, selectors_in, series_text


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
