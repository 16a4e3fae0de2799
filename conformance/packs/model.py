"""The one model every pack form is loaded into: rule groups and Alertmanager set-ups."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

SetupForm = Literal["helm-values", "operator", "secret", "file"]


@dataclass(frozen=True)
class Rule:
    """An alerting or recording rule with where it was written (``source`` file, 1-based ``line``)."""

    expr: str
    group: str
    source: str
    line: int | None
    alert: str | None = None
    record: str | None = None
    for_s: float = 0.0
    keep_firing_for_s: float = 0.0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def severity(self) -> str | None:
        return self.labels.get("severity")

    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[Rule, ...]
    source: str
    interval_s: float | None = None


@dataclass(frozen=True)
class AlertmanagerSetup:
    """An Alertmanager configuration as Alertmanager itself reads it (``alertmanager.yml`` as a dict).

    For ``operator`` the config is what the Prometheus Operator generates from the ``AlertmanagerConfig``
    resources (namespace matcher added, receivers renamed ``<namespace>/<name>/<receiver>``);
    ``receiver_names`` maps each generated name back to the name written in the pack.
    """

    form: SetupForm
    name: str
    config: dict[str, Any]
    source: str
    receiver_names: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: Alertmanager replicas the pack sets for this set-up (an ``Alertmanager`` resource's ``spec.replicas``,
    #: kube-prometheus-stack ``alertmanager.alertmanagerSpec.replicas``); None: the pack does not say.
    replicas: int | None = None

    def written_name(self, receiver: str) -> str:
        """The receiver's name as the pack author wrote it."""
        return self.receiver_names.get(receiver, receiver)

    def generated_name(self, written: str) -> str:
        """The receiver's name in the config Alertmanager runs (the operator's ``ns/name/receiver``), from the name
        the pack author wrote; the inverse of :meth:`written_name`."""
        return next((generated for generated, name in self.receiver_names.items() if name == written), written)


@dataclass(frozen=True)
class Pack:
    """Everything loaded from a pack folder or file."""

    root: Path
    groups: tuple[RuleGroup, ...]
    setups: tuple[AlertmanagerSetup, ...]
    files: tuple[Path, ...]
    rule_sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # what the loader ignored or assumed (other Kubernetes kinds ...)
    #: Prometheus replicas the pack sets (kube-prometheus-stack ``prometheus.prometheusSpec.replicas``, a Run:ai
    #: ``RunaiConfig``'s ``spec.prometheus.spec.replicas``, a ``Prometheus`` resource's ``spec.replicas``), and
    #: where; None: the pack does not say.
    prometheus_replicas: int | None = None
    prometheus_replicas_source: str = ""

    @property
    def alerting_rules(self) -> list[Rule]:
        return [rule for group in self.groups for rule in group.rules if rule.alert]

    def rules_named(self, alert: str) -> list[Rule]:
        return [rule for rule in self.alerting_rules if rule.alert == alert]

    def setup(self, form: SetupForm) -> AlertmanagerSetup | None:
        for setup in self.setups:
            if setup.form == form:
                return setup
        return None
