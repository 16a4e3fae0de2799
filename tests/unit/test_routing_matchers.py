"""Alertmanager matcher syntax and semantics."""

from __future__ import annotations

import pytest

from conformance.routing.matchers import Matcher, MatcherError, matchers_of, parse_matcher, parse_matchers


@pytest.mark.parametrize(
    ("text", "name", "op", "value"),
    [
        ('severity =~ "warning|critical"', "severity", "=~", "warning|critical"),
        ('type=~"user|infra"', "type", "=~", "user|infra"),
        ("alertname!=Foo", "alertname", "!=", "Foo"),
        ("team = backend", "team", "=", "backend"),
        ('msg="say \\"hi\\""', "msg", "=", 'say "hi"'),
        ('path="a\\\\b"', "path", "=", "a\\b"),
        ('x!~"a.*"', "x", "!~", "a.*"),
        ('empty=""', "empty", "=", ""),
        ('odd="a\\qb"', "odd", "=", "a\\qb"),  # spurious escape kept, as Alertmanager does
    ],
)
def test_parse_matcher(text: str, name: str, op: str, value: str) -> None:
    matcher = parse_matcher(text)
    assert (matcher.name, matcher.op, matcher.value) == (name, op, value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('severity =~ "warning|critical', "unescaped double quote"),
        ('a="b"c"', "unescaped double quote"),
        ("no operator here", "bad matcher format"),
        ("1abc=x", "bad matcher format"),
        ('a=~"(unclosed"', "error parsing regexp"),
        ('a=~"x(?=y)"', "unsupported Perl syntax"),  # Python has lookaheads, Go's RE2 does not
        ('a=~"(x)\\1"', "unsupported Perl syntax"),
    ],
)
def test_bad_matchers_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(MatcherError, match=fragment):
        parse_matcher(text)


def test_several_matchers_in_one_line_with_braces_and_quoted_commas() -> None:
    matchers = parse_matchers('{a="x,y", b=~"1|2"}')
    assert [(m.name, m.value) for m in matchers] == [("a", "x,y"), ("b", "1|2")]


def test_regexes_are_fully_anchored() -> None:
    runai = parse_matcher('alertname=~"Runai.*"')
    assert runai.matches({"alertname": "RunaiNodeLowMemory"})
    assert not runai.matches({"alertname": "MyRunaiAlert"})
    either = parse_matcher('severity=~"warning|critical"')
    assert either.matches({"severity": "critical"})
    assert not either.matches({"severity": "critical2"})
    assert not either.matches({"severity": "xwarning"})


def test_missing_label_matches_as_empty_string() -> None:
    assert parse_matcher("alertname!=Foo").matches({})
    assert not parse_matcher('team="a"').matches({})
    assert parse_matcher('team=~"a|"').matches({})
    assert parse_matcher('team!~".+"').matches({})


def test_str_round_trips_through_the_parser() -> None:
    for matcher in (Matcher.make("a", "=", 'q"uo\\te'), Matcher.make("b", "!~", "x|y\n")):
        again = parse_matcher(str(matcher))
        assert (again.name, again.op, again.value) == (matcher.name, matcher.op, matcher.value)


def test_legacy_match_and_match_re_and_inhibit_prefixes() -> None:
    route = {"match": {"team": "a"}, "match_re": {"severity": "warn.*"}, "matchers": ['x="1"']}
    assert [str(m) for m in matchers_of(route)] == ['team="a"', 'severity=~"warn.*"', 'x="1"']
    rule = {"source_match": {"severity": "critical"}, "target_matchers": ["severity=warning"]}
    assert [str(m) for m in matchers_of(rule, "source_")] == ['severity="critical"']
    assert [str(m) for m in matchers_of(rule, "target_")] == ['severity="warning"']
    with pytest.raises(MatcherError, match="error parsing regexp"):
        matchers_of({"match_re": {"a": "("}})
