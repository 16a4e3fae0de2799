"""A documented alert: the contract a pack must meet, with every number marked documented or chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from conformance.model.scenario import Scenario

Comparison = Literal[">", ">=", "<", "<=", "=="]


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
    ``integer`` quantities (restart counts, replicas) use the neighbouring whole numbers instead. ``quote`` is the
    document's words for the number, where the profile gives them.
    """

    quantity: str
    op: Comparison
    value: float
    documented: bool
    note: str = ""
    margin: float = 0.02
    integer: bool = False
    quote: str = ""

    def fires(self, level: float) -> bool:
        """Whether a level is past the threshold (the documented condition is met)."""
        return {
            ">": level > self.value,
            ">=": level >= self.value,
            "<": level < self.value,
            "<=": level <= self.value,
            "==": level == self.value,
        }[self.op]

    def describe(self) -> str:
        return f"{self.quantity} {self.op} {self.value:g}"

    def boundary_levels(self) -> tuple[float, float | None]:
        """(firing level, healthy level): just past and just inside the threshold. Healthy is None when impossible."""
        value = self.value
        if self.op == "==":
            # A condition met at one value only (a quota used to the last unit): the firing level is that value,
            # the healthy one just below it.
            below = value - 1 if self.integer else value - (abs(value) * self.margin if value else self.margin)
            return value, (below if below >= 0 else None)
        above = self.op in (">", ">=")
        if self.integer:
            past = {">": value + 1, ">=": value, "<": value - 1, "<=": value}[self.op]
            inside = {">": value, ">=": value - 1, "<": value, "<=": value + 1}[self.op]
            return past, (inside if inside >= 0 else None)
        step = abs(value) * self.margin if value else self.margin
        past = value + step if above else value - step
        inside = value - step if above else value + step
        return past, (inside if inside >= 0 else None)


@dataclass(frozen=True)
class DocumentedDuration:
    """A duration in seconds and whether the vendor documents it (else it is the reference pack's choice), with the
    document's words for it (``quote``) where the profile gives them."""

    seconds: float
    documented: bool
    note: str = ""
    quote: str = ""


@dataclass(frozen=True)
class AlertContract:
    """One documented alert of a profile.

    ``receivers`` maps a routing set-up name of the profile to the receiver this alert must reach there.
    ``rule_labels`` narrows which of the pack's rules named ``name`` with ``severity`` this entry documents
    (kube-prometheus's burn-rate alerts share name and severity and differ by their ``long``/``short`` labels);
    empty, the entry stands for every such rule. Every depth judges the union of the selected rules, as an
    operator receiving their notifications sees one alert.
    ``expected_failure`` holds the reason when the vendor's own published pack is known to break this contract
    (a finding): the project's CI marks the alert's failing items as expected failures with that reason.
    ``notifies`` False: the document says the alert must notify nobody (a heartbeat such as Watchdog, routed to
    a receiver without integrations); it must still fire and be routed, but never reach a receiver that notifies.
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
    rule_labels: dict[str, str] = field(default_factory=dict)
    #: False: documented to notify nobody (its receivers have no integration); see the schema's ``notifies``.
    notifies: bool = True

    @property
    def key(self) -> str:
        """Unique within a profile: ``Name[severity]``, plus the rule labels that tell same-named entries apart."""
        return f"{self.name}[{','.join([self.severity, *self._label_pairs()])}]"

    @property
    def label(self) -> str:
        """How a person names this entry: ``KubeAPIErrorBudgetBurn`` or ``KubeAPIErrorBudgetBurn{long=1h}``."""
        pairs = self._label_pairs()
        return f"{self.name}{{{','.join(pairs)}}}" if pairs else self.name

    def describe_selection(self) -> str:
        """``severity critical`` or ``severity critical and long=1h, short=5m``: which rules the entry selects."""
        pairs = self._label_pairs()
        return f"severity {self.severity}" + (f" and {', '.join(pairs)}" if pairs else "")

    def _label_pairs(self) -> list[str]:
        return [f"{name}={value}" for name, value in sorted(self.rule_labels.items())]


#: The notification settings a document can state for a set-up, as Alertmanager names them.
SETTING_NAMES = ("group_wait", "group_interval", "repeat_interval", "group_by", "send_resolved")

#: A setting's value: seconds for the timers, label names for ``group_by``, a flag for ``send_resolved``.
SettingValue = float | bool | tuple[str, ...]


@dataclass(frozen=True)
class DocumentedSetting:
    """A notification setting as the document states it (``quote``), or as the reference pack chose it."""

    value: SettingValue
    documented: bool
    quote: str = ""
    note: str = ""


@dataclass(frozen=True)
class RoutingSetup:
    """A documented Alertmanager set-up: which pack form provides it and the receiver alerts must reach.

    ``form`` is one of ``helm-values`` (kube-prometheus-stack ``alertmanager.config``), ``operator`` (the
    Prometheus Operator's config built from ``AlertmanagerConfig`` resources), ``secret`` (a Secret holding
    ``alertmanager.yaml``) or ``file`` (a plain ``alertmanager.yml``). ``settings`` are the notification
    settings (keys from :data:`SETTING_NAMES`) on the way to that receiver: depth 4 holds a pack's effective
    values, per alert, to the documented ones.
    """

    name: str
    form: Literal["helm-values", "operator", "secret", "file"]
    receiver: str
    source: Source
    documented: bool = True
    settings: dict[str, DocumentedSetting] = field(default_factory=dict)

    def documented_settings(self) -> dict[str, SettingValue]:
        return {name: setting.value for name, setting in self.settings.items() if setting.documented}


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
    scenario_alert: str | None = None  # Name or Name[severity]; None: every documented alert
    #: The documented scenarios that lose a system worker, as (alert key, scenario id): one report row together.
    worker_loss: tuple[tuple[str, str], ...] = ()
