"""Samples grouped into metric families, and their Prometheus text format (version 0.0.4)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from conformance.sim.types import Labels, Sample

_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


@dataclass
class Exposed:
    """What one target serves: its samples in order, and each family's type and help text."""

    samples: list[Sample] = field(default_factory=list)
    meta: dict[str, tuple[str, str]] = field(default_factory=dict)
    family_of: dict[str, str] = field(default_factory=dict)
    wanted: frozenset[str] | None = None  # when set, samples of other names are not kept (see stored_samples)

    def wants(self, *prefixes: str) -> bool:
        """Whether any kept name starts with one of ``prefixes``: emitters skip whole sections otherwise."""
        return self.wanted is None or any(name.startswith(prefixes) for name in self.wanted)

    def declare(self, family: str, type_: str, help_: str) -> None:
        self.meta.setdefault(family, (type_, help_))

    def add(self, family: str, labels: Labels, value: float, *, suffix: str = "") -> None:
        """Add a sample of ``family`` (``suffix`` such as ``_bucket`` for a histogram's parts)."""
        if family not in self.meta:
            raise KeyError(f"metric family {family} was not declared")
        name = family + suffix
        if self.wanted is not None and name not in self.wanted:
            return
        self.family_of[name] = family
        self.samples.append(Sample(name, labels, float(value)))


def format_value(value: float) -> str:
    """A sample value as the Go client writes it: integers plainly, ``+Inf``/``-Inf``/``NaN`` spelled out."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def render(exposed: Exposed) -> str:
    """The text exposition: one ``# HELP``/``# TYPE`` pair per family, then its samples, families contiguous."""
    grouped: dict[str, list[Sample]] = {}
    for sample in exposed.samples:
        grouped.setdefault(exposed.family_of.get(sample.name, sample.name), []).append(sample)
    lines: list[str] = []
    for family, samples in grouped.items():
        type_, help_ = exposed.meta.get(family, ("untyped", ""))
        lines.append(f"# HELP {family} {escape_help(help_)}")
        lines.append(f"# TYPE {family} {type_}")
        for sample in samples:
            lines.append(sample.name + format_labels(sample.labels) + " " + format_value(sample.value))
    return "\n".join(lines) + "\n" if lines else ""


def format_labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{name}="{escape_label_value(value)}"' for name, value in labels.items())
    return "{" + inner + "}"


def is_histogram_part(name: str) -> bool:
    return name.endswith(_HISTOGRAM_SUFFIXES)
