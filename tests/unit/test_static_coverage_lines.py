"""Coverage lines: one per absent selector, however many rules read it."""

from __future__ import annotations

from conformance.packs.model import Rule
from conformance.static.coverage import Absent, describe_absent


def _recording(line: int) -> Rule:
    return Rule(expr='sum(rate(apiserver_request_total{job="apiserver"}[5m]))', group="g", source="r.yaml", line=line)


def test_a_selector_read_by_several_rules_is_one_line_naming_the_first_and_the_count() -> None:
    shared = 'apiserver_request_total{job="apiserver"}'
    entries = [Absent(shared, _recording(line)) for line in (4, 9, 14)] + [Absent('up{job="x"}', _recording(20))]
    assert describe_absent(entries) == [
        f"{shared} (r.yaml:4 and 2 more rules)",
        'up{job="x"} (r.yaml:20)',
    ]
    assert describe_absent(entries[:2]) == [f"{shared} (r.yaml:4 and 1 more rule)"]
