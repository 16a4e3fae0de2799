"""Which ``for`` and window the contract judges an alert with, and why: never replaced in silence.

A profile marks each duration documented or not. A documented one is the vendor's promise and the pack is held
to it. An undocumented one is the pack's to choose, so depth 3's timing bounds use the pack's own value (the
longest ``for`` of the selected rules, the longest range their dependency closure reads) and the report says so,
with the rule it came from and the value the profile had written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from conformance.model.contract import AlertContract
from conformance.model.durations import format_duration
from conformance.packs.model import Rule


@dataclass(frozen=True)
class JudgedDuration:
    """One duration the timing bounds use: its value, whether documented, where it came from and why."""

    name: str  # "for" or "window"
    seconds: float
    documented: bool
    origin: str
    why: str

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "seconds": self.seconds,
            "documented": self.documented,
            "from": self.origin,
            "why": self.why,
        }

    def describe(self) -> str:
        return f"{self.name} {format_duration(self.seconds)} from {self.origin}: {self.why}"


def judged_for(alert: AlertContract, rules: Sequence[Rule]) -> JudgedDuration:
    """The ``for`` of ``alert``'s timing bounds: documented, or the longest of its selected rules'."""
    quote = f"{alert.source.seed}: {alert.source.section}"
    if alert.for_.documented:
        return JudgedDuration("for", alert.for_.seconds, True, f"the document ({quote})", "documented")
    rule = max(rules, key=lambda r: r.for_s)
    written = format_duration(alert.for_.seconds)
    return JudgedDuration(
        "for",
        rule.for_s,
        False,
        f"the pack's rule at {rule.where()}",
        f"the profile's {written} is not documented ({alert.for_.note or 'no note'}): an undocumented duration is "
        "the pack's to choose, so the pack is held to its own",
    )


def judged_window(alert: AlertContract, longest_s: float, reading: Rule | None) -> JudgedDuration:
    """The window of ``alert``'s timing bounds: documented, or the longest range its rules' closure reads."""
    if alert.window is not None and alert.window.documented:
        quote = f"{alert.source.seed}: {alert.source.section}"
        return JudgedDuration("window", alert.window.seconds, True, f"the document ({quote})", "documented")
    origin = f"the longest range the pack's rules read ({reading.where()})" if reading else "no range in the rules"
    if alert.window is None:
        why = "the profile states no window: the pack's own look-back bounds the time to fire"
    else:
        why = (
            f"the profile's {format_duration(alert.window.seconds)} is not documented "
            f"({alert.window.note or 'no note'}): the pack is held to its own"
        )
    return JudgedDuration("window", longest_s, False, origin, why)
