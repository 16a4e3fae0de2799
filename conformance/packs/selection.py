"""Which rules of a pack a documented alert stands for.

Prometheus loads any number of alerting rules with one name, even with one name and severity (kube-prometheus's
multi-window burn-rate alerts differ only by their ``long``/``short`` labels). An operator sees one alert: the
notifications of all those rules. So a profile entry selects rules by name, severity and optional ``rule_labels``,
and every depth judges the union of the selected rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from conformance.model.contract import AlertContract
from conformance.packs.model import Pack, Rule


@dataclass(frozen=True)
class Selection:
    """The pack's rules named like ``alert`` (``named``) and those the entry selects (``rules``)."""

    alert: AlertContract
    named: tuple[Rule, ...]
    rules: tuple[Rule, ...]

    @property
    def by_severity(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.named if rule.severity == self.alert.severity)

    def problem(self) -> str | None:
        """One line when the entry selects nothing, saying what the pack has instead; None when it selects rules.

        The wording for a missing alert and a wrong severity is the one depth 1 has always used.
        """
        alert = self.alert
        if not self.named:
            return f"missing: the pack has no alerting rule named {alert.name}"
        if self.rules:
            return None
        if not self.by_severity:
            found = ", ".join(sorted({str(rule.severity) for rule in self.named}))
            return f"severity is {found}, documented {alert.severity}"
        carried = "; ".join(f"{_shown(rule.labels)} at {rule.where()}" for rule in self.by_severity)
        return f"no rule named {alert.name} with {alert.describe_selection()}: its rules carry {carried}"

    def fired_by_selected(self, labels: Mapping[str, str]) -> bool:
        """Whether a firing instance with ``labels`` comes from a selected rule (it carries all the rule's own
        labels; templated values and empty ones, which Prometheus drops, cannot be told and are not compared)."""
        return any(_carries(labels, rule) for rule in self.rules)


def select_rules(pack: Pack, alert: AlertContract) -> Selection:
    """The rules ``alert`` documents: its name, its severity, and every ``rule_labels`` value."""
    named = tuple(pack.rules_named(alert.name))
    chosen = tuple(rule for rule in named if rule_matches(rule, alert))
    return Selection(alert, named, chosen)


def rule_matches(rule: Rule, alert: AlertContract) -> bool:
    if rule.alert != alert.name or rule.severity != alert.severity:
        return False
    return all(rule.labels.get(name) == value for name, value in alert.rule_labels.items())


def _carries(labels: Mapping[str, str], rule: Rule) -> bool:
    for name, value in rule.labels.items():
        if value == "" or "{{" in value:
            continue
        if labels.get(name) != value:
            return False
    return True


def _shown(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{name}={value}" for name, value in sorted(labels.items())) + "}"
