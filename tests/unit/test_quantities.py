"""Quota quantities: the hard limit fault quota-usage writes, on every backend the same."""

from __future__ import annotations

import math

import pytest

from conformance.quantities import format_quota, lowered_hard


def test_lowered_hard_reaches_the_level_on_the_resources_step() -> None:
    assert lowered_hard(1.1, 1.0, "requests.cpu") == 1.1  # fully used: hard is what is used
    assert lowered_hard(2**30, 1.02, "requests.memory") == math.floor(2**30 / 1.02)
    assert lowered_hard(0.9, 0.93, "requests.cpu") == 0.967  # rounded down to a millicore: used/hard >= 0.93
    assert lowered_hard(3, 0.5, "pods") == 6
    assert format_quota(0.967, "requests.cpu") == "967m"
    assert format_quota(float(2**30), "limits.memory") == "1073741824"


def test_lowered_hard_refuses_what_no_limit_can_reach() -> None:
    with pytest.raises(ValueError, match="uses none of this resource"):
        lowered_hard(0.0, 0.95, "pods")
