"""Finding, validating and loading profiles.

A profile is YAML validated by ``schema/profile.schema.json`` and then by the rules a schema cannot express
(unique alerts, scenario targets that exist, threshold quantities that match their fault). Every error names
the file and line. Bundled profiles live in the top-level ``profiles/`` folder, installed as the
``conformance_profiles`` package.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from conformance.errors import ProfileError, UnknownProfileError
from conformance.model.contract import (
    AlertContract,
    DocumentedCount,
    DocumentedDuration,
    HighAvailability,
    RoutingSetup,
    Source,
    Statement,
    Threshold,
)
from conformance.model.durations import parse_duration
from conformance.model.profile import Profile
from conformance.model.scenario import FAULT_KINDS, Scenario, Target
from conformance.model.workloads import (
    ContainerSpec,
    Environment,
    HttpMetricsSpec,
    JobSpec,
    NodeSpec,
    ScrapeSpec,
    VendorMetricSpec,
    VolumeClaimSpec,
    WorkloadSpec,
)
from conformance.quantities import parse_quantity
from conformance.yamlio import Document, load_one

PROFILE_FILE = "profile.yaml"

#: Faults whose level is measured over a range of time, and what the alert's ``window`` is for them. The engine
#: bounds the time to fire by ``for + window``, so an alert proven by one of these must say its window.
RANGE_FAULTS: dict[str, str] = {
    "crash-loop": "restarts within the window",
    "cpu-near-limit": "the CPU rate's range",
    "error-rate": "the request rates' range",
    "latency": "the histogram rate's range",
    "metric-rate-drop": "the counter rate's range",
    "error-counter": "the error counter's range",
    "network-flood": "the byte rate's range",
}


def bundled_profiles_dir() -> Path:
    """The folder holding the bundled profiles, from a checkout or an installed package."""
    return Path(str(resources.files("conformance_profiles")))


def bundled_profile_names() -> list[str]:
    root = bundled_profiles_dir()
    return sorted(p.name for p in root.iterdir() if (p / PROFILE_FILE).is_file())


def find_profile(name_or_path: str) -> Path:
    """A bundled profile by name, or a profile file (or folder holding ``profile.yaml``) by path."""
    candidate = Path(name_or_path)
    if candidate.is_dir() and (candidate / PROFILE_FILE).is_file():
        return candidate / PROFILE_FILE
    if candidate.is_file():
        return candidate
    bundled = bundled_profiles_dir() / name_or_path / PROFILE_FILE
    if "/" not in name_or_path and bundled.is_file():
        return bundled
    known = ", ".join(bundled_profile_names())
    raise UnknownProfileError(
        f"unknown profile {name_or_path!r}: not a bundled profile ({known}) and no such profile file"
    )


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("conformance").joinpath("schema/profile.schema.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def validate_schema(document: Document) -> None:
    """Raise :class:`ProfileError` for the first schema violation, naming its line and path."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(document.data), key=lambda e: (len(e.absolute_path), str(e.path)))
    if errors:
        # The deepest error is the most precise; schema errors on ``oneOf`` branches come out shallow.
        error = max(errors, key=lambda e: len(e.absolute_path))
        path = list(error.absolute_path)
        raise ProfileError(
            f"breaks the profile schema: {error.message}", source=document.source, place=document.place(path)
        )


def load_profile(name_or_path: str) -> Profile:
    """Find, validate and build a profile. Raises :class:`UnknownProfileError` or :class:`ProfileError`."""
    path = find_profile(name_or_path)
    document = load_one(path)
    validate_schema(document)
    return _ProfileBuilder(document, path).build()


class _ProfileBuilder:
    """Turns a schema-valid document into the model, checking the rules the schema cannot express."""

    def __init__(self, document: Document, path: Path) -> None:
        self.doc = document
        self.path = path
        self.data: dict[str, Any] = document.data

    def fail(self, message: str, path: list[str | int]) -> ProfileError:
        return ProfileError(message, source=self.doc.source, place=self.doc.place(path))

    def build(self) -> Profile:
        environment = self._environment(self.data["environment"])
        routing = tuple(self._setup(item, i) for i, item in enumerate(self.data["routing"]))
        names = [s.name for s in routing]
        if len(set(names)) != len(names):
            raise self.fail("routing set-up names must be unique", ["routing"])
        alerts = tuple(self._alert(item, i, environment, routing) for i, item in enumerate(self.data["alerts"]))
        seen: dict[str, int] = {}
        for index, alert in enumerate(alerts):
            if alert.key in seen:
                raise self.fail(
                    f"duplicate alert {alert.name} with severity {alert.severity} (also alerts[{seen[alert.key]}])",
                    ["alerts", index, "name"],
                )
            seen[alert.key] = index
        pack_path = (self.path.parent / self.data["pack"]).resolve()
        if not pack_path.exists():
            raise self.fail(f"reference pack {self.data['pack']!r} does not exist next to the profile", ["pack"])
        return Profile(
            name=self.data["name"],
            title=self.data["title"],
            path=self.path,
            seeds=tuple(self.data["seeds"]),
            pack_path=pack_path,
            environment=environment,
            routing=routing,
            alerts=alerts,
            # kube-prometheus-stack's defaults: Prometheus scrapes and evaluates every 30 s.
            scrape_interval_s=parse_duration(self.data.get("scrape_interval", "30s")),
            evaluation_interval_s=parse_duration(self.data.get("evaluation_interval", "30s")),
            notes=tuple(self.data.get("notes", [])),
            high_availability=self._high_availability(self.data.get("high_availability"), alerts),
        )

    def _high_availability(
        self, raw: dict[str, Any] | None, alerts: tuple[AlertContract, ...]
    ) -> HighAvailability | None:
        if raw is None:
            return None
        scenario_alert = raw.get("scenario_alert")
        if scenario_alert is not None and not any(scenario_alert in (a.key, a.name) for a in alerts):
            raise self.fail(
                f"high_availability.scenario_alert {scenario_alert!r} is no documented alert",
                ["high_availability", "scenario_alert"],
            )
        system_workers = raw.get("system_workers")
        return HighAvailability(
            prometheus_replicas=_documented_count(raw["prometheus_replicas"]),
            alertmanager_replicas=_documented_count(raw["alertmanager_replicas"]),
            system_workers=_documented_count(system_workers) if system_workers is not None else None,
            statements=tuple(
                Statement(Source(**item["source"]), bool(item["documented"]), item.get("note", ""))
                for item in raw.get("statements", [])
            ),
            scenario_alert=scenario_alert,
        )

    def _environment(self, raw: dict[str, Any]) -> Environment:
        self._check_quantities(raw)
        nodes = tuple(
            NodeSpec(
                name=n["name"],
                cpu_cores=float(n.get("cpu_cores", 8)),
                memory_bytes=int(parse_quantity(n.get("memory", "32Gi"))),
                memory_used_ratio=float(n.get("memory_used_ratio", 0.4)),
                role=n.get("role", "worker"),
                labels=dict(n.get("labels", {})),
                internal_ip=f"10.0.0.{i + 10}",
            )
            for i, n in enumerate(raw["nodes"])
        )
        namespaces = tuple(raw["namespaces"])
        monitoring = raw.get("monitoring_namespace", "monitoring")
        workloads = tuple(self._workload(w, i, namespaces) for i, w in enumerate(raw.get("workloads", [])))
        claims = tuple(
            VolumeClaimSpec(
                name=c["name"],
                namespace=c["namespace"],
                capacity_bytes=int(parse_quantity(c.get("capacity", "10Gi"))),
                used_ratio=float(c.get("used_ratio", 0.3)),
                storage_class=c.get("storage_class", "standard"),
                mounted_by=c.get("mounted_by", ""),
            )
            for c in raw.get("volume_claims", [])
        )
        jobs = tuple(
            JobSpec(
                name=j["name"], namespace=j["namespace"], cronjob=j.get("cronjob"), image=j.get("image", "busybox:1.36")
            )
            for j in raw.get("jobs", [])
        )
        env = Environment(nodes, namespaces, workloads, claims, jobs, monitoring)
        self._check_environment(env)
        return env

    def _check_quantities(self, raw: dict[str, Any]) -> None:
        """Every Kubernetes quantity of the environment parses, else a :class:`ProfileError` at its place."""
        places: list[list[str | int]] = []
        places += [["nodes", i, "memory"] for i in range(len(raw["nodes"]))]
        places += [["volume_claims", i, "capacity"] for i in range(len(raw.get("volume_claims", [])))]
        for w, workload in enumerate(raw.get("workloads", [])):
            for c in range(len(workload["containers"])):
                for key in ("cpu_limit", "cpu_request", "memory_limit", "memory_request"):
                    places.append(["workloads", w, "containers", c, key])
        for place in places:
            value: Any = raw
            for part in place:
                value = value.get(part) if isinstance(value, dict) else value[part]
            if value is None:
                continue
            try:
                parse_quantity(value)
            except ValueError as error:
                raise self.fail(str(error), ["environment", *place]) from None

    def _workload(self, raw: dict[str, Any], index: int, namespaces: tuple[str, ...]) -> WorkloadSpec:
        if raw["namespace"] not in namespaces:
            raise self.fail(
                f"namespace {raw['namespace']!r} is not in environment.namespaces", ["environment", "workloads", index]
            )
        containers = tuple(
            ContainerSpec(
                name=c["name"],
                image=c.get("image", "registry.k8s.io/pause:3.9"),
                cpu_limit_cores=_optional_float(c.get("cpu_limit", 1)),
                cpu_request_cores=_optional_float(c.get("cpu_request", "100m")),
                memory_limit_bytes=_optional_int(c.get("memory_limit", "512Mi")),
                memory_request_bytes=_optional_int(c.get("memory_request", "128Mi")),
                cpu_usage_ratio=float(c.get("cpu_usage_ratio", 0.2)),
                memory_usage_ratio=float(c.get("memory_usage_ratio", 0.4)),
            )
            for c in raw["containers"]
        )
        scrape = raw.get("scrape")
        http = raw.get("http")
        return WorkloadSpec(
            kind=raw["kind"],
            name=raw["name"],
            namespace=raw["namespace"],
            containers=containers,
            replicas=int(raw.get("replicas", 1)),
            labels=dict(raw.get("labels", {})),
            scrape=ScrapeSpec(
                job=scrape["job"],
                port=int(scrape.get("port", 8080)),
                path=scrape.get("path", "/metrics"),
                extra_metrics=tuple(scrape.get("extra_metrics", ())),
            )
            if scrape
            else None,
            http=HttpMetricsSpec(**http) if http is not None else None,
            vendor_metrics=tuple(
                VendorMetricSpec(
                    name=m["name"],
                    type=m["type"],
                    labels=dict(m.get("labels", {})),
                    rate_per_second=float(m.get("rate_per_second", 0.0)),
                    value=float(m.get("value", 0.0)),
                    help=m.get("help", ""),
                    documented=bool(m.get("documented", False)),
                )
                for m in raw.get("vendor_metrics", [])
            ),
            volume_claims=tuple(raw.get("volume_claims", ())),
            node_selector=dict(raw.get("node_selector", {})),
        )

    def _check_environment(self, env: Environment) -> None:
        seen: set[tuple[str, str]] = set()
        for index, workload in enumerate(env.workloads):
            key = (workload.namespace, workload.name)
            if key in seen:
                raise self.fail(
                    f"duplicate workload {workload.namespace}/{workload.name}", ["environment", "workloads", index]
                )
            seen.add(key)
            if workload.http is not None and workload.scrape is None:
                raise self.fail(
                    "a workload with http metrics needs a scrape job", ["environment", "workloads", index, "http"]
                )
            claim_names = {(c.namespace, c.name) for c in env.volume_claims}
            for claim in workload.volume_claims:
                if (workload.namespace, claim) not in claim_names:
                    raise self.fail(
                        f"volume claim {claim!r} is not declared in environment.volume_claims",
                        ["environment", "workloads", index, "volume_claims"],
                    )

    def _setup(self, raw: dict[str, Any], index: int) -> RoutingSetup:
        return RoutingSetup(
            name=raw["name"],
            form=raw["form"],
            receiver=raw["receiver"],
            source=Source(**raw["source"]),
            documented=bool(raw.get("documented", True)),
        )

    def _alert(
        self, raw: dict[str, Any], index: int, env: Environment, routing: tuple[RoutingSetup, ...]
    ) -> AlertContract:
        where: list[str | int] = ["alerts", index]
        threshold = None
        if "threshold" in raw:
            t = raw["threshold"]
            threshold = Threshold(
                quantity=t["quantity"],
                op=t["op"],
                value=float(t["value"]),
                documented=bool(t["documented"]),
                note=t.get("note", ""),
                margin=float(t.get("margin", 0.02)),
            )
        receivers = {setup.name: setup.receiver for setup in routing}
        for setup_name, receiver in raw.get("receivers", {}).items():
            if setup_name not in receivers:
                raise self.fail(f"no routing set-up named {setup_name!r}", [*where, "receivers", setup_name])
            receivers[setup_name] = receiver
        scenarios = []
        for s_index, s in enumerate(raw["scenarios"]):
            scenario = Scenario(
                id=s.get("id", s["fault"]),
                fault=s["fault"],
                target=Target(**s["target"]),
                params=dict(s.get("params", {})),
                description=s.get("description", ""),
            )
            self._check_scenario(scenario, threshold, env, [*where, "scenarios", s_index])
            scenarios.append(scenario)
        ids = [s.id for s in scenarios]
        if len(set(ids)) != len(ids):
            raise self.fail("scenario ids must be unique within an alert (set `id:`)", [*where, "scenarios"])
        self._check_levels(scenarios, threshold, "window" in raw, where)
        if threshold is not None:
            kind = FAULT_KINDS[scenarios[0].fault]
            threshold = Threshold(
                quantity=threshold.quantity,
                op=threshold.op,
                value=threshold.value,
                documented=threshold.documented,
                note=threshold.note,
                margin=threshold.margin,
                integer=kind.integer,
            )
        window = raw.get("window")
        return AlertContract(
            name=raw["name"],
            severity=raw["severity"],
            meaning=raw["meaning"],
            source=Source(**raw["source"]),
            threshold=threshold,
            for_=_documented_duration(raw["for"]),
            window=_documented_duration(window) if window else None,
            receivers=receivers,
            scenarios=tuple(scenarios),
            expected_failure=raw.get("expected_failure"),
            live="live" not in raw,
            live_skip_reason=raw.get("live", {}).get("skip", ""),
        )

    def _check_levels(
        self, scenarios: list[Scenario], threshold: Threshold | None, has_window: bool, where: list[str | int]
    ) -> None:
        """A fault with a level needs the threshold it is set against; a level measured over a range needs
        the alert's ``window``; a threshold needs a fault that has a level."""
        for index, scenario in enumerate(scenarios):
            quantity = scenario.kind.quantity
            place = [*where, "scenarios", index, "fault"]
            if quantity is not None and threshold is None:
                # The level is derived from the threshold (just past it, just inside it): without one there is
                # no level to inject.
                raise self.fail(
                    f"fault {scenario.fault} sets a level in {quantity}: the alert needs a threshold on {quantity}",
                    place,
                )
            if scenario.fault in RANGE_FAULTS and not has_window:
                raise self.fail(
                    f"fault {scenario.fault} is measured over a range ({RANGE_FAULTS[scenario.fault]}): "
                    "the alert needs a `window`",
                    place,
                )
        if threshold is not None and all(s.kind.quantity is None for s in scenarios):
            raise self.fail(
                f"threshold on {threshold.quantity}, but no scenario's fault has a level to set it against",
                [*where, "threshold"],
            )

    def _check_scenario(
        self, scenario: Scenario, threshold: Threshold | None, env: Environment, where: list[str | int]
    ) -> None:
        kind = scenario.kind
        target = scenario.target
        if kind.quantity is not None and threshold is not None and threshold.quantity != kind.quantity:
            raise self.fail(
                f"fault {scenario.fault} sets {kind.quantity}, but the threshold is on {threshold.quantity}",
                [*where, "fault"],
            )
        if kind.target in ("workload", "container"):
            if not (target.namespace and target.workload):
                raise self.fail(
                    f"fault {scenario.fault} needs target.namespace and target.workload", [*where, "target"]
                )
            try:
                workload = env.workload(target.namespace, target.workload)
            except KeyError as error:
                raise self.fail(str(error.args[0]), [*where, "target"]) from None
            if kind.target == "container":
                names = [c.name for c in workload.containers]
                if target.container not in names:
                    raise self.fail(
                        f"fault {scenario.fault} needs target.container, one of {names}", [*where, "target"]
                    )
            if scenario.fault in ("target-down", "error-rate", "latency") and workload.scrape is None:
                raise self.fail(
                    f"workload {target.workload} has no scrape job for {scenario.fault}", [*where, "target"]
                )
            if scenario.fault in ("metric-rate-drop", "error-counter"):
                metric = scenario.params.get("metric")
                if metric not in {m.name for m in workload.vendor_metrics}:
                    raise self.fail(
                        f"fault {scenario.fault} needs params.metric naming a vendor metric of {target.workload}",
                        [*where, "params"],
                    )
        elif kind.target == "node":
            if target.node not in {n.name for n in env.nodes}:
                raise self.fail(f"target.node {target.node!r} is not a declared node", [*where, "target"])
        elif kind.target == "volume":
            if (target.namespace, target.volume_claim) not in {(c.namespace, c.name) for c in env.volume_claims}:
                raise self.fail("target.volume_claim is not a declared volume claim", [*where, "target"])
        elif kind.target == "job" and (target.namespace, target.job) not in {(j.namespace, j.name) for j in env.jobs}:
            raise self.fail("target.job is not a declared job", [*where, "target"])


def _documented_count(raw: dict[str, Any]) -> DocumentedCount:
    source = raw.get("source")
    return DocumentedCount(
        int(raw["value"]), bool(raw["documented"]), Source(**source) if source else None, raw.get("note", "")
    )


def _documented_duration(raw: dict[str, Any]) -> DocumentedDuration:
    return DocumentedDuration(parse_duration(raw["value"]), bool(raw["documented"]), raw.get("note", ""))


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(parse_quantity(value))


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(parse_quantity(value))
