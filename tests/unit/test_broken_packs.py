"""The broken variants of the reference packs (tests/data/broken-packs) are broken exactly as their README row
says: one alert, one way, everything else identical to the reference pack.

The suite's own acceptance tests use these packs with ``--alert-pack`` and expect the named alert to fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.model.profile import Profile
from conformance.packs.loader import load_pack
from conformance.packs.model import Pack, Rule
from conformance.profiles import load_profile
from conformance.routing import route_alert
from conformance.routing.settings import differences

BROKEN = Path(__file__).resolve().parents[1] / "data" / "broken-packs"
HOWS = {
    "removed",
    "severity-changed",
    "threshold-loosened",
    "threshold-tightened",
    "wrong-namespace",
    "route-elsewhere",
    "for-shortened",
    "counter-function",
    "self-exclusion-removed",
    "group-wait-changed",
    "send-resolved-off",
    "aggregation-changed",
}
#: Hows that change a receiver's or a route's settings, not a rule.
ROUTING_HOWS = {"group-wait-changed", "send-resolved-off"}
_COUNTER_FUNCTION = re.compile(r"\b(changes|increase|rate|irate|delta|idelta|resets)\(")
_AGGREGATION = re.compile(r"\b(sum|max|min|avg|count)\s*(?:by\s*\([^)]*\)\s*)?\(")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])")


@dataclass(frozen=True)
class Row:
    folder: str
    profile: str
    alert: str  # Name[severity]
    how: str
    change: str

    @property
    def name(self) -> str:
        return self.alert.split("[")[0]

    @property
    def severity(self) -> str:
        """The alert's severity, or for a row about every alert (``*[set-up]``) the routing set-up's name."""
        return self.alert.split("[")[1].rstrip("]")

    @property
    def every_alert(self) -> bool:
        return self.name == "*"


def _rows() -> list[Row]:
    rows = []
    for line in (BROKEN / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("folder", "---"):
            rows.append(Row(*cells))
    return rows


def _signature(rule: Rule) -> tuple[str, float, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    return rule.expr, rule.for_s, tuple(sorted(rule.labels.items())), tuple(sorted(rule.annotations.items()))


def _rules_by_key(pack: Pack) -> dict[str, Rule]:
    return {f"{rule.alert}[{rule.severity}]": rule for rule in pack.alerting_rules}


def _reached(pack: Pack, rule: Rule) -> dict[str, list[str]]:
    """Receivers the rule's labels reach, per set-up form (a pack holds at most one set-up of each form)."""
    labels = {**rule.labels, "alertname": str(rule.alert)}
    return {
        setup.form: sorted(setup.written_name(m.receiver) for m in route_alert(setup.config, labels))
        for setup in pack.setups
    }


def test_every_folder_has_a_row_and_every_kind_of_breakage_is_there() -> None:
    rows = _rows()
    folders = sorted(path.name for path in BROKEN.iterdir() if path.is_dir())
    assert sorted(row.folder for row in rows) == folders
    assert {row.how for row in rows} == HOWS
    for row in rows:
        assert row.folder == f"{row.profile}-{row.how}"


@pytest.mark.parametrize("row", _rows(), ids=lambda row: row.folder)
def test_broken_pack_breaks_one_alert_as_its_row_says(row: Row) -> None:
    profile = load_profile(row.profile)
    reference, broken = load_pack(profile.pack_path), load_pack(BROKEN / row.folder)
    before, after = _rules_by_key(reference), _rules_by_key(broken)
    # Every other rule is untouched (every rule, when the routing is what is broken).
    for key, rule in before.items():
        if (key != row.alert or row.how in ROUTING_HOWS) and (key in after or row.how != "severity-changed"):
            assert _signature(after[key]) == _signature(rule), f"{key} changed too"
    if row.how in ROUTING_HOWS:
        _check_routing_breakage(row, profile, reference, broken)
        return
    contract = profile.alert(row.alert)
    original = before[row.alert]

    if row.how == "removed":
        assert broken.rules_named(row.name) == []
        return
    if row.how == "severity-changed":
        assert row.alert not in after
        changed = broken.rules_named(row.name)
        assert len(changed) == 1 and changed[0].severity != row.severity
        assert changed[0].expr == original.expr
        return
    rule = after[row.alert]
    if row.how in ("threshold-loosened", "threshold-tightened"):
        assert contract.threshold is not None
        pairs = [
            (float(a), float(b))
            for a, b in zip(_NUMBER.findall(original.expr), _NUMBER.findall(rule.expr), strict=True)
            if a != b
        ]
        assert len(pairs) == 1, f"expected one changed number, got {pairs}"
        old, new = pairs[0]
        fires_less = new > old if contract.threshold.op in (">", ">=") else new < old
        assert fires_less == (row.how == "threshold-loosened"), f"{old} -> {new} with op {contract.threshold.op}"
    elif row.how == "wrong-namespace":
        label_changed = rule.labels.get("namespace") != original.labels.get("namespace")
        selector = re.compile(r'namespace="([^"]*)"')
        selector_changed = selector.findall(rule.expr) != selector.findall(original.expr)
        assert label_changed or selector_changed
    elif row.how == "route-elsewhere":
        reached_before, reached_after = _reached(reference, original), _reached(broken, rule)
        lost = [
            setup.name
            for setup in profile.routing
            if contract.receivers[setup.name] in reached_before[setup.form]
            and contract.receivers[setup.name] not in reached_after[setup.form]
        ]
        assert lost, f"{row.alert} still reaches its receivers: {reached_after}"
    elif row.how == "for-shortened":
        assert contract.for_.documented
        assert rule.expr == original.expr
        assert rule.for_s < original.for_s == contract.for_.seconds
    elif row.how == "counter-function":
        assert rule.for_s == original.for_s and rule.expr != original.expr
        assert _COUNTER_FUNCTION.sub("f(", rule.expr) == _COUNTER_FUNCTION.sub("f(", original.expr)
    elif row.how == "self-exclusion-removed":
        exclusion = f', alertname!="{row.name}"'
        assert "ALERTS" in original.expr and exclusion in original.expr
        assert rule.expr == original.expr.replace(exclusion, "")
    elif row.how == "aggregation-changed":
        assert rule.for_s == original.for_s and rule.expr != original.expr
        assert _AGGREGATION.sub("agg(", rule.expr) == _AGGREGATION.sub("agg(", original.expr)
    else:
        raise AssertionError(f"no check for {row.how}")


def _check_routing_breakage(row: Row, profile: Profile, reference: Pack, broken: Pack) -> None:
    """The rules are the reference's; the broken setting differs from the documented one for exactly the row's
    alert (or for every alert, on a ``*[set-up]`` row), and every alert still reaches its documented receiver."""
    broken_pairs: set[tuple[str, str]] = set()
    for contract in profile.alerts:
        for documented in profile.routing:
            pack_before, pack_after = reference.setup(documented.form), broken.setup(documented.form)
            assert pack_before is not None and pack_after is not None
            rule = reference.rules_named(contract.name)[0]
            labels = {**rule.labels, "alertname": contract.name}
            wanted = documented.documented_settings()
            problems = []
            for pack_setup in (pack_before, pack_after):
                receiver = pack_setup.generated_name(contract.receivers[documented.name])
                matches = [m for m in route_alert(pack_setup.config, labels) if m.receiver == receiver]
                assert matches, f"{contract.key} no longer reaches {receiver}"
                problems.append(differences(wanted, pack_setup.config, matches[0].path, receiver, receiver))
            assert problems[0] == [], f"the reference pack already differs: {problems[0]}"
            if problems[1]:
                broken_pairs.add((contract.key, documented.name))
    if row.every_alert:
        assert broken_pairs == {(contract.key, row.severity) for contract in profile.alerts}
    else:
        assert broken_pairs and {key for key, _ in broken_pairs} == {row.alert}, broken_pairs
