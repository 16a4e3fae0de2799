"""Alertmanager inhibition (``inhibit/inhibit.go``): whether firing alerts mute an alert."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from conformance.routing.matchers import all_match, matchers_of


def muting_rules(config: Mapping[str, Any], alert_labels: Mapping[str, str]) -> list[str]:
    """Each inhibit rule whose target side matches ``alert_labels``, said as what would mute the alert: routing
    (and amtool) deliver it, but Alertmanager drops it while such a source alert fires."""
    found = []
    for index, rule in enumerate(config.get("inhibit_rules") or []):
        if not all_match(matchers_of(rule, "target_"), alert_labels):
            continue
        source = ", ".join(f"{m.name}{m.op}{m.value!r}" for m in matchers_of(rule, "source_")) or "any alert"
        equal = [str(name) for name in rule.get("equal") or []]
        same = f" with the same {', '.join(equal)}" if equal else ""
        found.append(f"inhibit_rules[{index}] mutes it while an alert matching {{{source}}} fires{same}")
    return found


def inhibited(config: Mapping[str, Any], alert_labels: Mapping[str, str], firing: Sequence[Mapping[str, str]]) -> bool:
    """Whether any inhibit rule of ``config`` mutes ``alert_labels`` given the ``firing`` alerts.

    A rule mutes the alert when the alert matches its target matchers and some firing alert matches its source
    matchers with the same values for every ``equal`` label (a label missing on both sides counts as equal).
    As in Alertmanager, when the alert matches both sides of a rule, source alerts that also match the target
    side are not taken as sources, so an alert never inhibits itself.
    """
    for rule in config.get("inhibit_rules") or []:
        source = matchers_of(rule, "source_")
        target = matchers_of(rule, "target_")
        if not all_match(target, alert_labels):
            continue
        equal = [str(name) for name in rule.get("equal") or []]
        two_sided = all_match(source, alert_labels)
        for other in firing:
            if not all_match(source, other):
                continue
            if any(other.get(name, "") != alert_labels.get(name, "") for name in equal):
                continue
            if two_sided and all_match(target, other):
                continue
            return True
    return False
