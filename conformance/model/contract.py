"""A documented alert: the contract a pack must meet, with every number marked documented or chosen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from conformance.model.scenario import Scenario

Comparison = Literal[">", ">=", "<", "<="]


@dataclass(frozen=True)
class Source:
    """Where the contract comes from: a seed file, its section, and the words quoted from it."""

    seed: str
    section: str
    quote: str


@dataclass(frozen=True)
class Threshold:
    """``quantity op value``: the alert must fire past it and stay silent inside it.

    ``margin`` is the relative distance from the boundary at which the firing and healthy cases are set;
    ``integer`` quantities (restart counts, replicas) use the neighbouring whole numbers instead.
    """

    quantity: str
    op: Comparison
    value: float
    documented: bool
    note: str = ""
    margin: float = 0.02
    integer: bool = False

    def fires(self, level: float) -> bool:
        """Whether a level is past the threshold (the documented condition is met)."""
        return {">": level > self.value, ">=": level >= self.value, "<": level < self.value, "<=": level <= self.value}[
            self.op
        ]

    def describe(self) -> str:
        return f"{self.quantity} {self.op} {self.value:g}"


@dataclass(frozen=True)
class DocumentedDuration:
    """A duration in seconds and whether the vendor documents it (else it is the reference pack's choice)."""

    seconds: float
    documented: bool
    note: str = ""


@dataclass(frozen=True)
class AlertContract:
    """One documented alert of a profile.

    ``receivers`` maps a routing set-up name of the profile to the receiver this alert must reach there.
    ``expected_failure`` holds the reason when the vendor's own published pack is known to break this contract
    (a finding): the project's CI marks the alert's failing items as expected failures with that reason.
    """

    name: str
    severity: str
    meaning: str
    source: Source
    threshold: Threshold | None
    for_: DocumentedDuration
    window: DocumentedDuration | None
    receivers: dict[str, str]
    scenarios: tuple[Scenario, ...]
    expected_failure: str | None = None
    live: bool = True
    live_skip_reason: str = ""

    @property
    def key(self) -> str:
        """Unique within a profile: the name, plus the severity when one name carries several severities."""
        return f"{self.name}[{self.severity}]"


@dataclass(frozen=True)
class RoutingSetup:
    """A documented Alertmanager set-up: which pack form provides it and the receiver alerts must reach.

    ``form`` is one of ``helm-values`` (kube-prometheus-stack ``alertmanager.config``), ``operator`` (the
    Prometheus Operator's config built from ``AlertmanagerConfig`` resources), ``secret`` (a Secret holding
    ``alertmanager.yaml``) or ``file`` (a plain ``alertmanager.yml``).
    """

    name: str
    form: Literal["helm-values", "operator", "secret", "file"]
    receiver: str
    source: Source
    documented: bool = True


@dataclass(frozen=True)
class DocumentedCount:
    """A number of replicas or nodes: quoted from the vendor's document, or the reference pack's choice (``note``)."""

    value: int
    documented: bool
    source: Source | None = None
    note: str = ""


@dataclass(frozen=True)
class Statement:
    """One sentence of a vendor document the profile encodes, quoted, and whether it is documented fact."""

    source: Source
    documented: bool
    note: str = ""


@dataclass(frozen=True)
class HighAvailability:
    """A profile's high-availability set-up: how many Prometheus and Alertmanager replicas the contract runs.

    A pack that sets its own counts (kube-prometheus-stack values, a runaiconfig, an ``Alertmanager`` resource)
    is run with those; these are the counts where the pack says nothing.
    """

    prometheus_replicas: DocumentedCount
    alertmanager_replicas: DocumentedCount
    system_workers: DocumentedCount | None = None
    statements: tuple[Statement, ...] = ()
    scenario_alert: str | None = None  # Name or Name[severity]; None: the shortest predicted time to fire
