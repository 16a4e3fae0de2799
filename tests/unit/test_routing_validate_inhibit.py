"""Config validation with file and place, and Alertmanager's inhibition semantics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.errors import RoutingConfigError
from conformance.routing import inhibited, validate_config
from conformance.yamlio import load_text


def base(**route: Any) -> dict[str, Any]:
    return {"route": {"receiver": "a", **route}, "receivers": [{"name": "a"}, {"name": "b"}]}


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"receivers": [{"name": "a"}]}, "route: no route provided in config"),
        ({"route": {}, "receivers": [{"name": "a"}]}, "route: root route must specify a default receiver"),
        (base(routes=[{"receiver": "c"}]), 'route.routes[0].receiver: undefined receiver "c" used in route'),
        (
            base(routes=[{"routes": [{"receiver": "zz"}]}]),
            "route.routes[0].routes[0].receiver: undefined receiver",
        ),
        (base(matchers=['x="1"']), "root route must not have any matchers"),
        (
            base(routes=[{"matchers": ["x=~("]}]),
            "route.routes[0].matchers: bad matcher: error parsing regexp",
        ),
        (base(routes=[{"match_re": {"x": "[a"}}]), "route.routes[0].match_re: bad matcher"),
        (base(routes=[{"mute_time_intervals": ["nights"]}]), 'undefined time interval "nights"'),
        (
            {"route": {"receiver": "a"}, "receivers": [{"name": "a"}, {"name": "a"}]},
            'receivers[1].name: notification config name "a" is not unique',
        ),
        (
            {**base(), "inhibit_rules": [{"source_matchers": ['a="b'], "target_matchers": ["c=d"]}]},
            "inhibit_rules[0].source_matchers: bad source matcher",
        ),
    ],
)
def test_invalid_configs_are_named_with_their_place(config: dict[str, Any], fragment: str) -> None:
    with pytest.raises(RoutingConfigError) as caught:
        validate_config(config, "am.yml")
    assert str(caught.value).startswith("am.yml: ")
    assert fragment in str(caught.value)


def test_line_numbers_come_from_the_document() -> None:
    text = "route:\n  receiver: a\n  routes:\n    - receiver: nope\nreceivers:\n  - name: a\n"
    document = load_text(text, "am.yml")[0]
    with pytest.raises(RoutingConfigError, match=r"am.yml: line 4 \(route.routes\[0\].receiver\)"):
        validate_config(document.data, "am.yml", document=document)


def test_valid_configs_pass() -> None:
    root = Path(__file__).resolve().parents[1] / "data" / "packs" / "routing"
    for path in sorted(root.glob("*.yml")):
        validate_config(yaml.safe_load(path.read_text()), str(path))


INHIBIT: dict[str, Any] = {
    **base(),
    "inhibit_rules": [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["alertname", "namespace"],
        },
        {
            "source_match": {"alertname": "NodeDown"},
            "target_match_re": {"alertname": "Pod.*"},
            "equal": ["node"],
        },
        # two-sided: matches both sides; an alert must never inhibit itself
        {"source_matchers": ['team="x"'], "target_matchers": ['team="x"']},
    ],
}


def test_critical_inhibits_warning_with_equal_labels() -> None:
    warning = {"alertname": "Disk", "namespace": "a", "severity": "warning"}
    critical = {"alertname": "Disk", "namespace": "a", "severity": "critical"}
    assert inhibited(INHIBIT, warning, [critical])
    assert not inhibited(INHIBIT, warning, [{**critical, "namespace": "b"}])
    assert not inhibited(INHIBIT, critical, [warning])
    assert not inhibited(INHIBIT, warning, [])


def test_equal_label_missing_on_both_sides_counts_as_equal() -> None:
    assert inhibited(INHIBIT, {"alertname": "PodCrash"}, [{"alertname": "NodeDown"}])
    assert not inhibited(INHIBIT, {"alertname": "PodCrash", "node": "n1"}, [{"alertname": "NodeDown"}])
    assert inhibited(INHIBIT, {"alertname": "PodCrash", "node": "n1"}, [{"alertname": "NodeDown", "node": "n1"}])


def test_alert_matching_both_sides_does_not_inhibit_itself() -> None:
    alert = {"alertname": "A", "team": "x"}
    assert not inhibited(INHIBIT, alert, [alert])
    assert not inhibited(INHIBIT, alert, [{"alertname": "B", "team": "x"}])
