"""The contract every live backend meets, so the live tests are the same for the twin, kind and a cluster."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from conformance.model.run import Observation, ScenarioRun, StatusCallback


class LiveBackend(Protocol):
    """Runs all scenarios of a profile at once, isolated, and reports one observation per scenario run."""

    name: str
    time_scale: float

    def run(self, runs: Sequence[ScenarioRun], *, status: StatusCallback) -> list[Observation]: ...

    def close(self) -> None:
        """Stop everything started and revert every fault still applied. Safe to call twice."""
