"""YAML keys PyYAML accepts but Prometheus-family tools refuse are errors naming the line."""

from __future__ import annotations

import pytest

from conformance.errors import YamlSyntaxError
from conformance.yamlio import load_text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", "f.yaml: line 3: malformed YAML: mapping key 'a' already defined at line 1"),
        (
            "r:\n  summary: x\n  summary: y\n",
            "f.yaml: line 3: malformed YAML: mapping key 'summary' already defined at line 2",
        ),
        ("? [1, 2]\n: v\n", "f.yaml: line 1: malformed YAML: a mapping key must be a plain value, not list"),
    ],
)
def test_refused_keys(text: str, message: str) -> None:
    with pytest.raises(YamlSyntaxError) as error:
        load_text(text, "f.yaml")
    assert str(error.value) == message


def test_lines_are_kept_for_every_value() -> None:
    (document,) = load_text("a:\n  - x: 1\n  - x: 2\n", "f.yaml")
    assert document.place(("a", 1, "x")) == "line 3 (a[1].x)"
