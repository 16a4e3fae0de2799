"""Finding, validating and loading profiles.

A profile is YAML validated by ``schema/profile.schema.json`` and then by the rules a schema cannot express
(unique alerts, scenario targets that exist, threshold quantities that match their fault). Every error names
the file and line. Bundled profiles live in the top-level ``profiles/`` folder, installed as the
``conformance_profiles`` package.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from conformance.errors import ProfileError, UnknownProfileError
from conformance.model.contract import (
    AlertContract,
    DocumentedCount,
    DocumentedDuration,
    DocumentedSetting,
    HighAvailability,
    RoutingSetup,
    SettingValue,
    Source,
    Statement,
    Threshold,
)
from conformance.model.durations import parse_duration
from conformance.model.profile import Profile
from conformance.model.scenario import (
    CONTROL_PLANE_COMPONENTS,
    FAULT_KINDS,
    NO_FAULT,
    Scenario,
    Target,
    param_value,
    share_levels,
)
from conformance.model.workloads import (
    AutoscalerSpec,
    ContainerSpec,
    DisruptionBudgetSpec,
    Environment,
    HttpMetricsSpec,
    JobSpec,
    NodeSpec,
    QuotaSpec,
    ScrapeSpec,
    VendorMetricSpec,
    VolumeClaimSpec,
    WorkloadSpec,
)
from conformance.profileschema import schema_errors
from conformance.quantities import parse_quantity
from conformance.yamlio import Document, load_one

PROFILE_FILE = "profile.yaml"
T = TypeVar("T")

#: Faults whose level is measured over a range of time, and what the alert's ``window`` is for them. The engine
#: bounds the time to fire by ``for + window``, so an alert proven by one of these must say its window.
RANGE_FAULTS: dict[str, str] = {
    "crash-loop": "restarts within the window",
    "cpu-near-limit": "the CPU rate's range",
    "cpu-throttling": "the CFS period counters' range",
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


def validate_schema(document: Document) -> None:
    """Raise :class:`ProfileError` naming every schema violation (each with its line and path)."""
    errors = [error for _, error in schema_errors(document)]
    if errors:
        raise combine(errors, document.source)


def combine(errors: Sequence[ProfileError], source: str) -> ProfileError:
    """One error for a list of them: itself when alone, else every one on its own line under a count, so an author
    fixes a profile in one round instead of one per error."""
    if len(errors) == 1:
        return errors[0]
    lines = [f"  {error.place}: {error.message}" if error.place else f"  {error.message}" for error in errors]
    combined = ProfileError(f"{len(errors)} errors\n" + "\n".join(lines), source=source)
    combined.errors = list(errors)
    return combined


def load_profile(name_or_path: str) -> Profile:
    """Find, validate and build a profile. Raises :class:`UnknownProfileError` or :class:`ProfileError` (naming
    every error of the file at once)."""
    path = find_profile(name_or_path)
    document = load_one(path)
    invalid = schema_errors(document)
    builder = _ProfileBuilder(document, path, [where for where, _ in invalid])
    profile = builder.build()
    errors = sorted([error for _, error in invalid] + builder.errors, key=lambda e: _line(e.place))
    if errors or profile is None:
        raise combine(errors, document.source)
    return profile


def _line(place: str | None) -> int:
    """The line number a place starts with (``line 12 (alerts[0])``), 0 when it has none."""
    if place and place.startswith("line "):
        digits = place[5:].split(" ", 1)[0]
        return int(digits) if digits.isdigit() else 0
    return 0


class _ProfileBuilder:
    """Turns a document into the model, checking the rules the schema cannot express.

    Every error is collected (:attr:`errors`), not raised, so one round shows an author all of them. A part of the
    document the schema already rejected (``invalid``) is not built: its own errors say what is wrong, and
    building it would only add confusing follow-on errors.
    """

    def __init__(self, document: Document, path: Path, invalid: Sequence[tuple[str | int, ...]] = ()) -> None:
        self.doc = document
        self.path = path
        self.data: Any = document.data
        self.errors: list[ProfileError] = []
        self._invalid = list(invalid)

    def fail(self, message: str, path: list[str | int]) -> ProfileError:
        return ProfileError(message, source=self.doc.source, place=self.doc.place(path))

    def note(self, message: str, path: list[str | int]) -> None:
        """Record an error and carry on checking."""
        self.errors.append(self.fail(message, path))

    def _valid(self, path: list[str | int]) -> bool:
        """Whether the schema accepted everything at and below ``path`` (and it is there at all)."""
        node = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return False
        prefix = tuple(path)
        return not any(bad[: len(prefix)] == prefix and len(bad) >= len(prefix) for bad in self._invalid if bad)

    def _attempt(self, build: Callable[[], T]) -> T | None:
        try:
            return build()
        except ProfileError as error:
            self.errors.append(error)
            return None

    def build(self) -> Profile | None:
        """The profile, or None when anything is wrong (then :attr:`errors` and the schema errors say what)."""
        if not isinstance(self.data, dict):
            return None
        data: dict[str, Any] = self.data
        environment = (
            self._attempt(lambda: self._environment(data["environment"])) if self._valid(["environment"]) else None
        )
        # Scenario targets are checked against a sound environment only: against a broken one, they would
        # mostly repeat its errors in other words.
        targets = environment if not self.errors else None
        raw_routing: list[Any] = data["routing"] if isinstance(data.get("routing"), list) else []
        built = [self._setup(item, i) for i, item in enumerate(raw_routing) if self._valid(["routing", i])]
        routing = tuple(setup for setup in built if setup is not None)
        # Every set-up the file names, built or not: an alert naming a broken one is not told it does not exist.
        declared = {
            item["name"] for item in raw_routing if isinstance(item, dict) and isinstance(item.get("name"), str)
        }
        names = [s.name for s in routing]
        if len(set(names)) != len(names):
            self.note("routing set-up names must be unique", ["routing"])
        raw_alerts: list[Any] = data["alerts"] if isinstance(data.get("alerts"), list) else []
        alerts: list[tuple[int, AlertContract]] = []
        for index, raw in enumerate(raw_alerts):
            if self._valid(["alerts", index]):
                alert = self._attempt(partial(self._alert, raw, index, targets, routing, declared))
                if alert is not None:
                    alerts.append((index, alert))
        self._check_unique(alerts)
        pack_path = None
        if self._valid(["pack"]):
            pack_path = (self.path.parent / data["pack"]).resolve()
            if not pack_path.exists():
                self.note(f"reference pack {data['pack']!r} does not exist next to the profile", ["pack"])
        contracts = tuple(alert for _, alert in alerts)
        high_availability = (
            self._attempt(lambda: self._high_availability(data.get("high_availability"), contracts))
            if self._valid(["high_availability"])
            else None
        )
        self._check_seeds(data)
        if (
            self.errors
            or self._invalid
            or environment is None
            or pack_path is None
            or len(alerts) != len(raw_alerts)
            or len(routing) != len(raw_routing)
        ):
            return None
        fault_nodes = frozenset(
            scenario.target.node
            for alert in contracts
            for scenario in alert.scenarios
            if scenario.kind.target == "node" and scenario.target.node
        )
        environment = replace(environment, fault_nodes=fault_nodes)
        return Profile(
            name=data["name"],
            title=data["title"],
            path=self.path,
            seeds=tuple(data["seeds"]),
            pack_path=pack_path,
            environment=environment,
            routing=routing,
            alerts=contracts,
            # kube-prometheus-stack's defaults: Prometheus scrapes and evaluates every 30 s.
            scrape_interval_s=parse_duration(data.get("scrape_interval", "30s")),
            evaluation_interval_s=parse_duration(data.get("evaluation_interval", "30s")),
            notes=tuple(data.get("notes", [])),
            high_availability=high_availability,
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
        worker_loss = []
        for index, ref in enumerate(raw.get("worker_loss", [])):
            name, scenario_id = ref.rsplit(":", 1)
            found = [a for a in alerts if name in (a.key, a.name)]
            if len(found) != 1 or not any(s.id == scenario_id and s.kind.target == "node" for s in found[0].scenarios):
                raise self.fail(
                    f"high_availability.worker_loss {ref!r} names no node scenario of one documented alert",
                    ["high_availability", "worker_loss", index],
                )
            worker_loss.append((found[0].key, scenario_id))
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
            worker_loss=tuple(worker_loss),
        )

    def _check_unique(self, alerts: Sequence[tuple[int, AlertContract]]) -> None:
        """Two entries may share name and severity only when their ``rule_labels`` tell them apart: some label
        given different values in both. Otherwise one pack rule could be judged under two contracts."""
        for later, (index, alert) in enumerate(alerts):
            for other_index, other in alerts[:later]:
                if (alert.name, alert.severity) != (other.name, other.severity):
                    continue
                if alert.key == other.key:
                    self.note(
                        f"duplicate alert {alert.name} with severity {alert.severity} (also alerts[{other_index}])",
                        ["alerts", index, "name"],
                    )
                elif not _disjoint(alert.rule_labels, other.rule_labels):
                    self.note(
                        f"{alert.label} and alerts[{other_index}] ({other.label}), both severity {alert.severity}, "
                        "can select the same rules: give both a rule_labels value that tells them apart",
                        ["alerts", index, "rule_labels" if alert.rule_labels else "name"],
                    )

    def _environment(self, raw: dict[str, Any]) -> Environment | None:
        if not self._check_quantities(raw):
            return None  # the objects cannot be built; each bad quantity is reported at its place
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
                name=j["name"],
                namespace=j["namespace"],
                cronjob=j.get("cronjob"),
                image=j.get("image", "busybox:1.36"),
                run_seconds=float(j.get("run_seconds", 30.0)),
            )
            for j in raw.get("jobs", [])
        )
        self_monitor = bool(raw.get("kube_state_metrics", {}).get("self_monitor", False))
        env = Environment(
            nodes,
            namespaces,
            workloads,
            claims,
            jobs,
            monitoring,
            ksm_self_monitor=self_monitor,
            autoscalers=tuple(
                AutoscalerSpec(
                    name=a["name"],
                    namespace=a["namespace"],
                    workload=a["workload"],
                    max_replicas=int(a["max_replicas"]),
                    min_replicas=int(a.get("min_replicas", 1)),
                    cpu_utilization=int(a.get("cpu_utilization", 80)),
                )
                for a in raw.get("autoscalers", [])
            ),
            quotas=tuple(
                QuotaSpec(
                    name=q["name"],
                    namespace=q["namespace"],
                    hard={resource: parse_quantity(value) for resource, value in q["hard"].items()},
                )
                for q in raw.get("quotas", [])
            ),
            disruption_budgets=tuple(
                DisruptionBudgetSpec(
                    name=b["name"],
                    namespace=b["namespace"],
                    workload=b["workload"],
                    min_available=b.get("min_available"),
                    max_unavailable=b.get("max_unavailable"),
                )
                for b in raw.get("disruption_budgets", [])
            ),
        )
        self._check_environment(env)
        self._check_policies(env)
        return env

    def _check_quantities(self, raw: dict[str, Any]) -> bool:
        """Every Kubernetes quantity of the environment parses; each one that does not is an error at its place."""
        places: list[list[str | int]] = []
        places += [["nodes", i, "memory"] for i in range(len(raw["nodes"]))]
        places += [["volume_claims", i, "capacity"] for i in range(len(raw.get("volume_claims", [])))]
        for q, quota in enumerate(raw.get("quotas", [])):
            places += [["quotas", q, "hard", resource] for resource in quota.get("hard", {})]
        for w, workload in enumerate(raw.get("workloads", [])):
            for c in range(len(workload["containers"])):
                for key in ("cpu_limit", "cpu_request", "memory_limit", "memory_request"):
                    places.append(["workloads", w, "containers", c, key])
        ok = True
        for place in places:
            value: Any = raw
            for part in place:
                value = value.get(part) if isinstance(value, dict) else value[part]
            if value is None:
                continue
            try:
                parse_quantity(value)
            except ValueError as error:
                self.note(str(error), ["environment", *place])
                ok = False
        return ok

    def _workload(self, raw: dict[str, Any], index: int, namespaces: tuple[str, ...]) -> WorkloadSpec:
        if raw["namespace"] not in namespaces:
            self.note(
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
        claim_names = {(c.namespace, c.name) for c in env.volume_claims}
        for index, workload in enumerate(env.workloads):
            where: list[str | int] = ["environment", "workloads", index]
            key = (workload.namespace, workload.name)
            if key in seen:
                self.note(f"duplicate workload {workload.namespace}/{workload.name}", where)
            seen.add(key)
            if workload.http is not None and workload.scrape is None:
                self.note("a workload with http metrics needs a scrape job", [*where, "http"])
            for claim in workload.volume_claims:
                if (workload.namespace, claim) not in claim_names:
                    self.note(
                        f"volume claim {claim!r} is not declared in environment.volume_claims",
                        [*where, "volume_claims"],
                    )

    def _check_policies(self, env: Environment) -> None:
        """Autoscalers, quotas and disruption budgets name declared objects in declared namespaces, once each."""
        groups: tuple[tuple[str, Sequence[AutoscalerSpec | QuotaSpec | DisruptionBudgetSpec]], ...] = (
            ("autoscalers", env.autoscalers),
            ("quotas", env.quotas),
            ("disruption_budgets", env.disruption_budgets),
        )
        for section, items in groups:
            seen: set[tuple[str, str]] = set()
            targets: set[tuple[str, str]] = set()
            for index, item in enumerate(items):
                where: list[str | int] = ["environment", section, index]
                if item.namespace not in env.namespaces:
                    self.note(f"namespace {item.namespace!r} is not in environment.namespaces", [*where, "namespace"])
                if (item.namespace, item.name) in seen:
                    self.note(f"duplicate {section[:-1].replace('_', ' ')} {item.namespace}/{item.name}", where)
                seen.add((item.namespace, item.name))
                if isinstance(item, QuotaSpec):
                    continue
                self._check_policy_target(env, item, (section, targets), where)

    def _check_policy_target(
        self,
        env: Environment,
        item: AutoscalerSpec | DisruptionBudgetSpec,
        seen: tuple[str, set[tuple[str, str]]],
        where: list[str | int],
    ) -> None:
        section, targets = seen
        try:
            workload = env.workload(item.namespace, item.workload)
        except KeyError:
            self.note(
                f"workload {item.workload!r} is not declared in environment.workloads in namespace {item.namespace}",
                [*where, "workload"],
            )
            return
        if (item.namespace, item.workload) in targets:
            self.note(f"workload {item.namespace}/{item.workload} already has one of {section}", [*where, "workload"])
        targets.add((item.namespace, item.workload))
        if isinstance(item, DisruptionBudgetSpec):
            if (item.min_available is None) == (item.max_unavailable is None):
                self.note("a disruption budget sets exactly one of min_available and max_unavailable", where)
            return
        if workload.kind == "DaemonSet":
            self.note("an autoscaler scales a Deployment or StatefulSet, not a DaemonSet", [*where, "workload"])
        if item.min_replicas > item.max_replicas:
            self.note(
                f"min_replicas {item.min_replicas} is above max_replicas {item.max_replicas}", [*where, "min_replicas"]
            )
        elif not item.min_replicas <= workload.replicas <= item.max_replicas:
            self.note(
                f"workload {item.workload} runs {workload.replicas} replicas, outside [{item.min_replicas}, "
                f"{item.max_replicas}]: an autoscaler would move it there at once",
                [*where, "workload"],
            )
        elif workload.replicas == item.max_replicas != item.min_replicas:
            self.note(
                f"workload {item.workload} runs at max_replicas ({item.max_replicas}): KubeHpaMaxedOut would fire "
                "on the healthy cluster; raise max_replicas",
                [*where, "max_replicas"],
            )

    def _setup(self, raw: dict[str, Any], index: int) -> RoutingSetup | None:
        """The set-up at ``routing[index]``; None when a setting has an error (each one recorded)."""
        settings = {
            name: self._attempt(partial(self._setting, name, item, ["routing", index, "settings", name]))
            for name, item in raw.get("settings", {}).items()
        }
        valid = {name: setting for name, setting in settings.items() if setting is not None}
        if len(valid) != len(settings):
            return None
        return RoutingSetup(
            name=raw["name"],
            form=raw["form"],
            receiver=raw["receiver"],
            source=Source(**raw["source"]),
            documented=bool(raw.get("documented", True)),
            settings=valid,
        )

    def _check_seeds(self, data: dict[str, Any]) -> None:
        """Every ``source.seed`` names one of the profile's ``seeds``: one error per unknown name, at its first use
        (a name used wrongly in forty places is one mistake, not forty)."""
        seeds = data.get("seeds")
        if not self._valid(["seeds"]) or not isinstance(seeds, list):
            return
        uses: dict[str, list[list[str | int]]] = {}
        for path, seed in _seed_references(data, []):
            if seed not in seeds:
                uses.setdefault(seed, []).append(path)
        for seed, paths in uses.items():
            more = f" (and {len(paths) - 1} more places)" if len(paths) > 1 else ""
            self.note(
                f"seed {seed!r} is not one of the profile's seeds ({', '.join(map(str, seeds))}): "
                f"list it under `seeds` or name a listed one{more}",
                paths[0],
            )

    def _setting(self, name: str, raw: dict[str, Any], where: list[str | int]) -> DocumentedSetting:
        """A notification setting; a documented one must quote the document (it is what depth 4 holds packs to)."""
        if raw["documented"] and not raw.get("quote"):
            raise self.fail(f"documented setting {name} needs the document's words in `quote`", where)
        value: SettingValue
        if name == "group_by":
            value = tuple(raw["value"])
        elif name == "send_resolved":
            value = bool(raw["value"])
        else:
            value = parse_duration(raw["value"])
        return DocumentedSetting(value, bool(raw["documented"]), raw.get("quote", ""), raw.get("note", ""))

    def _alert(
        self,
        raw: dict[str, Any],
        index: int,
        env: Environment | None,
        routing: tuple[RoutingSetup, ...],
        declared: set[str],
    ) -> AlertContract | None:
        """The entry at ``alerts[index]``; None when it has an error (recorded). Without ``env`` (the environment
        has errors of its own) the scenario targets are not checked; ``declared`` names every routing set-up of the
        file, also those with errors of their own."""
        where: list[str | int] = ["alerts", index]
        errors_before = len(self.errors)
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
                quote=t.get("quote", ""),
            )
        receivers = {setup.name: setup.receiver for setup in routing}
        for setup_name, receiver in raw.get("receivers", {}).items():
            if setup_name not in declared:
                self.note(
                    f"no routing set-up named {setup_name!r} (set-ups: {', '.join(sorted(declared)) or 'none'})",
                    [*where, "receivers", setup_name],
                )
            receivers[setup_name] = receiver
        scenarios = []
        for s_index, s in enumerate(raw["scenarios"]):
            scenario = Scenario(
                id=s.get("id", s["fault"]),
                fault=s["fault"],
                target=Target(**s.get("target", {})),
                params=dict(s.get("params", {})),
                description=s.get("description", ""),
                spread=tuple(Target(**t) for t in s.get("spread", [])),
                expect=s.get("expect", "fire"),
                level=float(s["level"]) if "level" in s else None,
                silent_for=tuple(dict(matcher) for matcher in s.get("silent_for", [])),
            )
            if scenario.silent_for and scenario.silent:
                self.note(
                    "`silent_for` is only for a firing scenario: a silent scenario (expect: silent) must not raise "
                    "the alert for any labels",
                    [*where, "scenarios", s_index, "silent_for"],
                )
            self._check_scenario(scenario, threshold, env, [*where, "scenarios", s_index])
            scenarios.append(scenario)
        ids = [s.id for s in scenarios]
        if len(set(ids)) != len(ids):
            self.note("scenario ids must be unique within an alert (set `id:`)", [*where, "scenarios"])
        self._check_levels(scenarios, threshold, "window" in raw, where)
        if len(self.errors) > errors_before:
            return None
        if threshold is not None:
            kind = next((s.kind for s in scenarios if s.kind.quantity is not None), scenarios[0].kind)
            threshold = replace(threshold, integer=kind.integer)
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
            rule_labels=dict(raw.get("rule_labels", {})),
            notifies=bool(raw.get("notifies", True)),
        )

    def _check_levels(
        self, scenarios: list[Scenario], threshold: Threshold | None, has_window: bool, where: list[str | int]
    ) -> None:
        """A fault with a level needs the threshold it is set against; a level measured over a range needs
        the alert's ``window``; a threshold needs a fault that has a level."""
        for index, scenario in enumerate(scenarios):
            quantity = scenario.kind.quantity
            place = [*where, "scenarios", index, "fault"]
            if scenario.level is not None and not (scenario.silent and quantity is not None):
                self.note(
                    "`level` is only for a silent scenario (expect: silent) of a fault with a level; a firing "
                    "scenario's level comes from the threshold",
                    [*where, "scenarios", index, "level"],
                )
            if (
                scenario.silent
                and quantity is not None
                and scenario.level is None
                and threshold is not None
                and replace(threshold, integer=scenario.kind.integer).boundary_levels()[1] is None
            ):
                self.note(
                    f"no level of {quantity} stays inside {threshold.describe()}: give the silent scenario a `level`",
                    [*where, "scenarios", index],
                )
            level_needed = quantity is not None and not scenario.kind.level_optional
            if level_needed and threshold is None and scenario.level is None:
                # The level is derived from the threshold (just past it, just inside it): without one there is
                # no level to inject.
                self.note(
                    f"fault {scenario.fault} sets a level in {quantity}: the alert needs a threshold on {quantity}",
                    place,
                )
            if scenario.fault in RANGE_FAULTS and not has_window:
                self.note(
                    f"fault {scenario.fault} is measured over a range ({RANGE_FAULTS[scenario.fault]}): "
                    "the alert needs a `window`",
                    place,
                )
        if threshold is not None and all(s.kind.quantity is None for s in scenarios):
            self.note(
                f"threshold on {threshold.quantity}, but no scenario's fault has a level to set it against",
                [*where, "threshold"],
            )

    def _check_scenario(
        self, scenario: Scenario, threshold: Threshold | None, env: Environment | None, where: list[str | int]
    ) -> None:
        kind = scenario.kind
        if kind.quantity is not None and threshold is not None and threshold.quantity != kind.quantity:
            self.note(
                f"fault {scenario.fault} sets {kind.quantity}, but the threshold is on {threshold.quantity}",
                [*where, "fault"],
            )
        if env is not None:
            self._attempt(lambda: self._check_target(scenario, scenario.target, env, where, [*where, "target"]))
        # The spread's objects are checked only once a spread is possible at all: else they repeat its error.
        spread_ok = not scenario.spread or self._attempt(
            lambda: self._check_spread(scenario, threshold, [*where, "spread"])
        )
        if spread_ok and env is not None:
            for index, target in enumerate(scenario.spread):
                self._attempt(partial(self._check_target, scenario, target, env, where, [*where, "spread", index]))

    def _check_spread(self, scenario: Scenario, threshold: Threshold | None, where: list[str | int]) -> bool:
        """A spread fault must be shareable, and no object's share of the firing level may cross the threshold
        on its own: that is what tells a total from a per-object expression (True, or the first problem raised)."""
        kind = scenario.kind
        if not kind.shareable or threshold is None:
            shareable = sorted(name for name, k in FAULT_KINDS.items() if k.shareable)
            raise self.fail(
                f"fault {scenario.fault} cannot be spread over several objects (shareable: {', '.join(shareable)})",
                where,
            )
        if len(set(scenario.targets)) != len(scenario.targets):
            raise self.fail("spread repeats an object (or the target itself)", where)
        # The threshold gets its fault's integer flag only once every scenario is checked; the shares need it now.
        threshold = replace(threshold, integer=kind.integer)
        fire, _ = threshold.boundary_levels()
        share = max(share_levels(fire, len(scenario.targets), kind.integer))
        if threshold.op in ("<", "<=") or threshold.fires(share):
            raise self.fail(
                f"spread over {len(scenario.targets)} objects leaves each {share:g} of the firing level {fire:g}, "
                f"which does not stay inside {threshold.describe()}: a per-object expression would fire too",
                where,
            )
        return True

    def _check_target(
        self,
        scenario: Scenario,
        target: Target,
        env: Environment,
        scenario_where: list[str | int],
        where: list[str | int],
    ) -> None:
        """The target exists in the environment and has what the fault needs (first problem raised)."""
        kind = scenario.kind
        if kind.target == "none":
            # fault none (the healthy cluster), or a fault on one fixed object that needs no target
            # (ksm-list-errors: kube-state-metrics' ClusterRole), which may be documented to leave an alert silent
            healthy = scenario.fault == NO_FAULT
            if target != Target():
                what = "changes nothing" if healthy else "acts on one fixed object"
                raise self.fail(f"fault {scenario.fault} {what} and takes no target", where)
            if healthy and scenario.silent:
                raise self.fail(f"fault {scenario.fault} is the healthy cluster: it cannot be a silent scenario", where)
            return
        if kind.target == "cluster":
            if target != Target():
                raise self.fail(f"fault {scenario.fault} acts on the whole cluster and takes no target", where)
            return
        if kind.target == "component":
            self._check_component(scenario, target, env, where)
            return
        if kind.target in ("workload", "container"):
            if not (target.namespace and target.workload):
                raise self.fail(f"fault {scenario.fault} needs target.namespace and target.workload", where)
            try:
                workload = env.workload(target.namespace, target.workload)
            except KeyError as error:
                raise self.fail(str(error.args[0]), where) from None
            if kind.target == "container":
                names = [c.name for c in workload.containers]
                if target.container not in names:
                    raise self.fail(f"fault {scenario.fault} needs target.container, one of {names}", where)
            if scenario.fault in ("target-down", "error-rate", "latency") and workload.scrape is None:
                raise self.fail(f"workload {target.workload} has no scrape job for {scenario.fault}", where)
            if scenario.fault in ("metric-rate-drop", "error-counter"):
                metric = scenario.params.get("metric")
                if metric not in {m.name for m in workload.vendor_metrics}:
                    raise self.fail(
                        f"fault {scenario.fault} needs params.metric naming a vendor metric of {target.workload}",
                        [*scenario_where, "params"],
                    )
        elif kind.target == "node":
            if target.node not in {n.name for n in env.nodes}:
                raise self.fail(f"target.node {target.node!r} is not a declared node", where)
        elif kind.target == "volume":
            if (target.namespace, target.volume_claim) not in {(c.namespace, c.name) for c in env.volume_claims}:
                raise self.fail("target.volume_claim is not a declared volume claim", where)
        elif kind.target == "job" and (target.namespace, target.job) not in {(j.namespace, j.name) for j in env.jobs}:
            raise self.fail("target.job is not a declared job", where)
        elif kind.target == "quota":
            self._check_quota_target(scenario, target, env, scenario_where, where)
        if scenario.fault in ("hpa-maxed", "pdb-unsatisfiable"):
            self._check_policy_fault(scenario, target, env, where)

    def _check_quota_target(
        self,
        scenario: Scenario,
        target: Target,
        env: Environment,
        scenario_where: list[str | int],
        where: list[str | int],
    ) -> None:
        if not (target.namespace and target.quota):
            raise self.fail(f"fault {scenario.fault} needs target.namespace and target.quota", where)
        try:
            quota = env.quota(target.namespace, target.quota)
        except KeyError as error:
            raise self.fail(str(error.args[0]), where) from None
        resource = str(param_value(scenario, "resource"))
        if resource not in quota.hard:
            raise self.fail(
                f"params.resource {resource!r} is not in the hard set of quota {target.quota} "
                f"({', '.join(sorted(quota.hard))})",
                [*scenario_where, "params"],
            )

    def _check_policy_fault(self, scenario: Scenario, target: Target, env: Environment, where: list[str | int]) -> None:
        """hpa-maxed needs an autoscaler over the target above its minimum; pdb-unsatisfiable a budget over it."""
        namespace, name = target.namespace or "", target.workload or ""
        if scenario.fault == "pdb-unsatisfiable":
            if env.budget_of(namespace, name) is None:
                raise self.fail(f"no disruption budget in environment.disruption_budgets selects {name}", where)
            return
        autoscaler = env.autoscaler_of(namespace, name)
        if autoscaler is None:
            raise self.fail(f"no autoscaler in environment.autoscalers scales {name}", where)
        replicas = env.workload(namespace, name).replicas
        if replicas <= autoscaler.min_replicas:
            raise self.fail(
                f"{name} runs {replicas} replicas, autoscaler {autoscaler.name}'s min_replicas: maxReplicas lowered "
                "to them would equal minReplicas, which is not maxed out; declare more replicas than min_replicas",
                where,
            )

    def _check_component(self, scenario: Scenario, target: Target, env: Environment, where: list[str | int]) -> None:
        """A known control-plane component, simulated (no control-plane node: a managed control plane, only its
        API server is there; a stand-in in kube-system scraped under its job replaces it)."""
        if target.component not in CONTROL_PLANE_COMPONENTS or target != Target(component=target.component):
            raise self.fail(
                f"fault {scenario.fault} needs target.component (only), one of {sorted(CONTROL_PLANE_COMPONENTS)}",
                where,
            )
        component = CONTROL_PLANE_COMPONENTS[target.component]
        if component.name != "kube-apiserver" and not any(n.role == "control-plane" for n in env.nodes):
            raise self.fail(
                f"{component.name} runs on control-plane nodes and the environment declares none (a managed control "
                "plane exposes only its API server)",
                where,
            )
        stand_ins = [
            f"{w.namespace}/{w.name}"
            for w in env.workloads
            if w.namespace == "kube-system" and w.scrape is not None and w.scrape.job == component.job
        ]
        if stand_ins:
            raise self.fail(
                f"job {component.job} is stood in for by {', '.join(stand_ins)}, which replaces the simulated "
                f"{component.name}: take the stand-in down with target-down, or remove it",
                where,
            )


def _disjoint(one: dict[str, str], other: dict[str, str]) -> bool:
    """Whether no rule's labels can match both selections: some label is required with two different values."""
    return any(name in other and other[name] != value for name, value in one.items())


def _documented_count(raw: dict[str, Any]) -> DocumentedCount:
    source = raw.get("source")
    return DocumentedCount(
        int(raw["value"]), bool(raw["documented"]), Source(**source) if source else None, raw.get("note", "")
    )


def _documented_duration(raw: dict[str, Any]) -> DocumentedDuration:
    return DocumentedDuration(
        parse_duration(raw["value"]), bool(raw["documented"]), raw.get("note", ""), raw.get("quote", "")
    )


def _seed_references(node: Any, path: list[str | int]) -> list[tuple[list[str | int], str]]:
    """Every ``source.seed`` of the document with the path of its ``seed`` key, in document order."""
    found: list[tuple[list[str | int], str]] = []
    if isinstance(node, dict):
        seed = node.get("seed")
        if path and path[-1] == "source" and isinstance(seed, str):
            found.append(([*path, "seed"], seed))
        for key, value in node.items():
            found += _seed_references(value, [*path, key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _seed_references(value, [*path, index])
    return found


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(parse_quantity(value))


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(parse_quantity(value))
