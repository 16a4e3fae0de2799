"""Prometheus-style durations (``5m``, ``1h30m``, ``500ms``) as float seconds, and back."""

from __future__ import annotations

import re

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}
_DURATION = re.compile(r"^((\d+(\.\d+)?)(ms|s|m|h|d|w|y))+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")


def parse_duration(text: str | int | float) -> float:
    """Seconds in a Prometheus duration string; plain numbers are taken as seconds.

    Raises ``ValueError`` with the offending text when it is not a duration.
    """
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r}")
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"negative duration: {text!r}")
        return float(text)
    stripped = text.strip()
    if not _DURATION.match(stripped):
        raise ValueError(f"not a duration: {text!r} (expected e.g. 30s, 5m, 1h30m)")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(stripped))


def format_duration(seconds: float) -> str:
    """The shortest Prometheus duration for ``seconds`` (``90`` -> ``1m30s``, ``0.25`` -> ``250ms``)."""
    if seconds < 0:
        raise ValueError(f"negative duration: {seconds}")
    millis = round(seconds * 1000)
    if millis == 0:
        return "0s"
    parts = []
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
