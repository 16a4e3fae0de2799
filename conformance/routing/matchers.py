"""Alertmanager label matchers, parsed and evaluated exactly as Alertmanager 0.25 does.

Alertmanager's classic matcher syntax (``pkg/labels/parse.go``): ``name op value`` with ``op`` one of ``=``,
``!=``, ``=~``, ``!~``; the value may be double-quoted with ``\\"``, ``\\\\`` and ``\\n`` escapes, or bare
(``alertname!=Foo``); a route's ``matchers:`` line may hold several matchers separated by commas,
optionally in braces. Regexes are fully anchored (``^(?:re)$``), so ``Runai.*`` must match the whole value. A
label the alert does not carry is matched as the empty string, as Alertmanager does.

The legacy ``match`` (equality) and ``match_re`` (regex) maps become the same :class:`Matcher` objects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

MatchOp = Literal["=", "!=", "=~", "!~"]

_LABEL_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
# Alertmanager's own matcher pattern: name, operator, then the raw value up to trailing blanks.
# Perl constructs Python accepts but Go's RE2 (Alertmanager's regex engine) refuses: lookarounds, backreferences.
_NOT_RE2 = re.compile(r"\(\?<?[=!]|\(\?P=|\\[1-9]")
_MATCHER = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*(.*?)\s*$", re.DOTALL)


class MatcherError(ValueError):
    """A matcher string or regex Alertmanager would refuse; ``str()`` is Alertmanager-like."""


@dataclass(frozen=True)
class Matcher:
    """``name op value``; ``matches`` evaluates it on a label set (a missing label is the empty string)."""

    name: str
    op: MatchOp
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def make(cls, name: str, op: MatchOp, value: str) -> Matcher:
        """A matcher, compiling its regex anchored like Alertmanager; :class:`MatcherError` if it is bad."""
        if not _LABEL_NAME.match(name):
            raise MatcherError(f"invalid label name {name!r}")
        regex = None
        if op in ("=~", "!~"):
            regex = compile_anchored(value)
        return cls(name, op, value, regex)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self._regex is not None
        found = self._regex.fullmatch(actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        # Alertmanager prints matchers as name op %q: the value always double-quoted.
        return f"{self.name}{self.op}{quote(self.value)}"


def quote(value: str) -> str:
    """``value`` double-quoted with the escapes the matcher parser undoes."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def compile_anchored(pattern: str) -> re.Pattern[str]:
    """The regex anchored as Alertmanager does (``^(?:pattern)$``); :class:`MatcherError` if it is bad."""
    perl = _NOT_RE2.search(pattern)
    if perl:
        raise MatcherError(f"error parsing regexp: invalid or unsupported Perl syntax: `{perl.group(0)}`")
    try:
        return re.compile(f"(?:{pattern})")
    except re.error as error:
        raise MatcherError(f"error parsing regexp {pattern!r}: {error}") from None


def parse_matcher(text: str) -> Matcher:
    """One matcher such as ``severity =~ "warning|critical"`` or ``alertname!=Foo``."""
    found = _MATCHER.match(text)
    if not found:
        raise MatcherError(f"bad matcher format: {text}")
    name, op, raw = found.group(1), found.group(2), found.group(3)
    expect_quote = raw.startswith('"')
    if expect_quote:
        raw = raw[1:]
    value: list[str] = []
    escaped = False
    for index, char in enumerate(raw):
        if escaped:
            escaped = False
            if char == "n":
                value.append("\n")
            elif char in ('"', "\\"):
                value.append(char)
            else:  # a spurious escape: Alertmanager keeps the backslash
                value.append("\\" + char)
            continue
        if char == "\\":
            if index < len(raw) - 1:
                escaped = True
                continue
            value.append("\\")
        elif char == '"':
            if not expect_quote or index < len(raw) - 1:
                raise MatcherError(f"matcher value contains unescaped double quote: {found.group(3)}")
            expect_quote = False
        else:
            value.append(char)
    if expect_quote:
        raise MatcherError(f"matcher value contains unescaped double quote: {found.group(3)}")
    return Matcher.make(name, op, "".join(value))  # type: ignore[arg-type]


def parse_matchers(text: str) -> list[Matcher]:
    """All matchers in one ``matchers:`` line: ``a="b", c=~"d"``, optionally wrapped in braces."""
    body = text.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    token: list[str] = []
    inside_quotes = escaped = False
    for char in body:
        if char == "," and not inside_quotes:
            tokens.append("".join(token))
            token = []
            continue
        if char == '"':
            if not escaped:
                inside_quotes = not inside_quotes
            else:
                escaped = False
        elif char == "\\":
            escaped = not escaped
        else:
            escaped = False
        token.append(char)
    last = "".join(token).strip()
    if last:
        tokens.append(last)
    return [parse_matcher(item) for item in tokens]


def matchers_of(node: Mapping[str, Any], prefix: str = "") -> list[Matcher]:
    """The matchers of a route (``prefix=""``) or one side of an inhibit rule (``prefix="source_"``).

    Combines ``<prefix>match``, ``<prefix>match_re`` and ``<prefix>matchers`` as Alertmanager does.
    """
    result: list[Matcher] = []
    match = node.get(f"{prefix}match") or {}
    if not isinstance(match, Mapping):
        raise MatcherError(f"{prefix}match must be a map of label to value")
    for name, value in match.items():
        result.append(Matcher.make(str(name), "=", _scalar(value)))
    match_re = node.get(f"{prefix}match_re") or {}
    if not isinstance(match_re, Mapping):
        raise MatcherError(f"{prefix}match_re must be a map of label to regex")
    for name, value in match_re.items():
        result.append(Matcher.make(str(name), "=~", _scalar(value)))
    lines = node.get(f"{prefix}matchers") or []
    if isinstance(lines, str) or not isinstance(lines, list):
        raise MatcherError(f"{prefix}matchers must be a list of matcher strings")
    for line in lines:
        result.extend(parse_matchers(_scalar(line)))
    return result


def all_match(matchers: list[Matcher], labels: Mapping[str, str]) -> bool:
    return all(matcher.matches(labels) for matcher in matchers)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
