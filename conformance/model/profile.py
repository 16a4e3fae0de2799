"""A profile: one vendor's documented alerting contract, the world it lives in, and its reference pack."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from conformance.model.contract import AlertContract, HighAvailability, RoutingSetup
from conformance.model.workloads import Environment


@dataclass(frozen=True)
class Profile:
    """Loaded and validated; ``path`` is the profile file, ``pack_path`` its reference pack."""

    name: str
    title: str
    path: Path
    seeds: tuple[str, ...]
    pack_path: Path
    environment: Environment
    routing: tuple[RoutingSetup, ...]
    alerts: tuple[AlertContract, ...]
    scrape_interval_s: float = 30.0
    evaluation_interval_s: float = 30.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    high_availability: HighAvailability | None = None

    def alert(self, key: str) -> AlertContract:
        """The alert with ``key`` (``Name[severity]``) or, when unique, plain ``Name``."""
        matches = [a for a in self.alerts if key in (a.key, a.name)]
        if len(matches) != 1:
            raise KeyError(f"profile {self.name} has {len(matches)} alerts matching {key!r}")
        return matches[0]

    def setup(self, name: str) -> RoutingSetup:
        for setup in self.routing:
            if setup.name == name:
                return setup
        raise KeyError(f"profile {self.name} has no routing set-up {name!r}")
