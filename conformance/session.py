"""One conformance run: the options, the profile, the pack, and each depth's results computed once, on demand.

Usable from a script as well as from the pytest plugin::

    session = ConformanceSession.open(Options(profile="runai"))
    for key, behaviour in session.behaviour().items():
        print(key, behaviour.ok)
    session.close()
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from conformance.model.contract import AlertContract
from conformance.model.prediction import Prediction
from conformance.model.profile import Profile
from conformance.model.run import ScenarioRun
from conformance.options import Options
from conformance.packs.loader import load_pack, write_alertmanager_config, write_rule_files
from conformance.packs.model import Pack
from conformance.profiles import load_profile
from conformance.static.basis import JudgedDuration
from conformance.static.behaviour import (
    AlertBehaviour,
    BehaviourPlan,
    inner_alerts,
    plan_behaviour,
    prove_behaviour,
)
from conformance.static.closure import format_span
from conformance.static.contract import ContractResult, check_contract
from conformance.static.cost import Budget, Estimate, budget_line, check_budget
from conformance.static.cost import estimate as estimate_cost
from conformance.static.coverage import Absent, absent_selectors, describe_absent
from conformance.static.routing_check import RoutingNote, RoutingResult, check_routing, routing_notes
from conformance.static.syntax import SyntaxReport, check_syntax
from conformance.static.untouched import FaultEffects, Untouched, failing_faults
from conformance.tools import find_tool

T = TypeVar("T")


class ConformanceSession:
    """Holds everything one run shares. Results are computed at first use and kept (thread-safe)."""

    def __init__(self, options: Options, profile: Profile, pack: Pack, workdir: Path) -> None:
        self.options = options
        self.profile = profile
        self.pack = pack
        self.workdir = workdir
        self._memo: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._finalizers: list[Callable[[], None]] = []
        self._closed = False
        #: Fault injectors for real Kubernetes (``conformance_plugins.registry.FaultRegistry``); the pytest plugin
        #: fills it with the built-ins plus what a vendor's ``pytest_conformance_register_faults`` adds.
        self.fault_registry: Any = None

    @classmethod
    def open(cls, options: Options) -> ConformanceSession:
        """Load and validate the profile and the pack; every input error is raised here, before any test runs."""
        profile = load_profile(options.profile)
        pack = load_pack(options.alert_pack or profile.pack_path)
        # Depth 3's cost is known before anything runs: over the budget, stop here with one line.
        plan = plan_behaviour(profile, pack)
        found = estimate_cost(plan, profile, pack)
        check_budget(found, Budget(options.budget_memory_bytes, options.budget_time_s))
        workdir = Path(tempfile.mkdtemp(prefix=f"alert-conformance-{profile.name}-"))
        session = cls(options, profile, pack, workdir)
        session._memo.update(behaviour_plan=("ok", plan), estimate=("ok", found))
        return session

    @property
    def pack_label(self) -> str:
        return str(self.options.alert_pack) if self.options.alert_pack else f"reference pack of {self.profile.name}"

    def tool(self, name: str) -> Path:
        """The binary for ``name``, from its option, its environment variable or PATH."""
        return find_tool(name, self.options.tools.get(name))

    def require_tools(self, names: list[str]) -> None:
        """Find every tool the run needs up front, so a missing one is one clear line before any test."""
        for name in names:
            self.tool(name)

    def memo(self, key: str, factory: Callable[[], T]) -> T:
        """``factory()`` computed once per session under ``key`` (a failure is kept and raised again)."""
        with self._lock:
            if key not in self._memo:
                try:
                    self._memo[key] = ("ok", factory())
                except Exception as error:
                    self._memo[key] = ("error", error)
            state, value = self._memo[key]
        if state == "error":
            # A fresh traceback each time: re-raising the stored object would grow its traceback at every item.
            raise value.with_traceback(None)
        result: T = value
        return result

    def has_memo(self, key: str) -> bool:
        """Whether ``key`` was computed (or attempted) in this session."""
        with self._lock:
            return key in self._memo

    def add_finalizer(self, finalizer: Callable[[], None]) -> None:
        """Run at :meth:`close`, last added first."""
        self._finalizers.append(finalizer)

    # Files the tools read -------------------------------------------------------------------------------------

    def rule_files(self) -> list[Path]:
        return self.memo("rule_files", lambda: write_rule_files(self.pack, self.workdir / "rules"))

    def rule_file_names(self) -> dict[str, set[str]]:
        """For each written rule file, the alert and record names it holds (to attribute file-level errors)."""

        def index() -> dict[str, set[str]]:
            names: dict[str, set[str]] = {}
            for path in self.rule_files():
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                names[str(path)] = {
                    str(rule.get("alert") or rule.get("record"))
                    for group in data.get("groups") or []
                    for rule in group.get("rules") or []
                }
            return names

        return self.memo("rule_file_names", index)

    def alertmanager_files(self) -> dict[str, Path]:
        """One ``alertmanager.yml`` per Alertmanager set-up of the pack, keyed by its form."""

        def write() -> dict[str, Path]:
            return {
                setup.form: write_alertmanager_config(setup, self.workdir / "alertmanager" / f"{setup.form}.yml")
                for setup in self.pack.setups
            }

        return self.memo("alertmanager_files", write)

    # Depths 1 to 4 ---------------------------------------------------------------------------------------------

    def contract(self) -> dict[str, ContractResult]:
        return self.memo("contract", lambda: {a.key: check_contract(a, self.pack) for a in self.profile.alerts})

    def syntax(self) -> SyntaxReport:
        return self.memo(
            "syntax",
            lambda: check_syntax(
                self.rule_files(),
                self.alertmanager_files(),
                promtool=self.tool("promtool"),
                amtool=self.tool("amtool"),
            ),
        )

    def behaviour_plan(self) -> BehaviourPlan:
        """Depth 3's cases, planned (nothing simulated yet)."""
        return self.memo("behaviour_plan", lambda: plan_behaviour(self.profile, self.pack))

    def inner_alerts(self, alert: AlertContract) -> tuple[str, ...]:
        """The alerts ``alert`` reads through ``ALERTS`` (empty unless it is an aggregate)."""
        return inner_alerts(alert.name, self.behaviour_plan().needs.get(alert.key, []))

    def judged(self) -> dict[str, tuple[JudgedDuration, ...]]:
        """Per alert key, the ``for`` and window its timing is judged with, documented or the pack's own and why."""
        return {key: behaviour.judged for key, behaviour in self.behaviour_plan().results.items()}

    def estimate(self) -> Estimate:
        """Depth 3's estimated wall time and peak memory (see :mod:`conformance.static.cost`)."""
        return self.memo("estimate", lambda: estimate_cost(self.behaviour_plan(), self.profile, self.pack))

    def behaviour(self) -> dict[str, AlertBehaviour]:
        return self.memo(
            "behaviour",
            lambda: prove_behaviour(
                self.profile,
                self.pack,
                promtool=self.tool("promtool"),
                workdir=self.workdir,
                plan=self.behaviour_plan(),
            ),
        )

    def predictions(self) -> dict[tuple[str, str], Prediction]:
        """Depth 3's firing predictions keyed by (alert key, scenario id)."""
        return {
            (prediction.alert_key, prediction.scenario_id): prediction
            for behaviour in self.behaviour().values()
            for prediction in behaviour.predictions
        }

    def scenario_runs(self) -> list[ScenarioRun]:
        """Every (alert, scenario) with its firing level and prediction, for the live depths."""
        predictions = self.predictions()
        runs = []
        for alert in self.profile.alerts:
            for scenario in alert.scenarios:
                prediction = predictions.get((alert.key, scenario.id))
                if prediction is not None:
                    runs.append(ScenarioRun(alert, scenario, prediction.level, prediction))
        return runs

    def live_runs(self) -> list[ScenarioRun]:
        """The scenario runs the live depth injects: those of alerts the profile runs live, with a prediction."""
        return [run for run in self.scenario_runs() if run.alert.live and not run.alert.live_skip_reason]

    def ha_runs(self) -> list[ScenarioRun]:
        """High availability: the live runs with every replica loss the profile's and pack's replicas allow, and
        the repeats a loss of its own needs (:func:`conformance.replicas.ha_runs`); the live runs as they are
        without replicas."""
        from conformance.replicas import ha_runs

        return self.memo("ha-runs", lambda: ha_runs(self.profile, self.pack, self.live_runs()))

    def finding(self, alert: AlertContract) -> str | None:
        """The documented finding that makes ``alert``'s failure expected in this run, if any.

        A finding is a defect of the vendor's own published rule, proven on the reference pack written from it;
        a pack given with ``--alert-pack`` is judged on its own, so nothing is expected to fail there.
        """
        return alert.expected_failure if alert.expected_failure and self.options.alert_pack is None else None

    def coverage(self) -> dict[str, list[Absent]]:
        """Per alert of the pack, the selectors matching no series of the run's simulated world."""
        return self.memo("coverage", lambda: absent_selectors(self.profile, self.pack))

    def absent_for(self, alert: AlertContract) -> list[Absent]:
        """The absent selectors among what ``alert``'s selected rules read."""
        reading = {id(rule) for rule in self.behaviour_plan().needs.get(alert.key, [])}
        return [absent for absent in self.coverage().get(alert.name, []) if id(absent.rule) in reading]

    def untouched_for(self, alert: AlertContract) -> list[Untouched]:
        """The faults of ``alert``'s failing scenarios that change none of the series its rules read."""

        def find() -> list[Untouched]:
            effects = self.memo("fault-effects", lambda: FaultEffects(self.profile, self.pack))
            rules = self.behaviour_plan().needs.get(alert.key, [])
            found = (effects.untouched(rules, case) for case in failing_faults(self.behaviour()[alert.key].verdicts))
            return [entry for entry in found if entry is not None]

        return self.memo(f"untouched:{alert.key}", find)

    def behaviour_reasons(self, alert: AlertContract) -> list[str]:
        """Depth 3's reasons for ``alert``; when it failed, the series its rules read that the world never has,
        and each failing scenario's fault that changes none of the series they read."""
        reasons = self.behaviour()[alert.key].reasons()
        if not reasons:
            return reasons
        absent = self.absent_for(alert)
        if absent:
            lines = describe_absent(absent)
            shown = ", ".join(lines[:3])
            more = f" and {len(lines) - 3} more" if len(lines) > 3 else ""
            reasons.append(f"its rules read series the simulated cluster never has: {shown}{more}")
        reasons += [entry.describe() for entry in self.untouched_for(alert)]
        return reasons

    def routing(self) -> dict[tuple[str, str], RoutingResult]:
        return self.memo(
            "routing",
            lambda: check_routing(
                self.profile.alerts,
                self.profile.routing,
                self.pack,
                self.behaviour(),
                self.alertmanager_files(),
                amtool=self.tool("amtool"),
            ),
        )

    def routing_notes(self) -> list[RoutingNote] | None:
        """Depth 4's notes (a documented receiver without integration, the inhibit rules that can mute an alert)
        when depth 4 ran in this session; None when it did not, or failed as a whole (its items said why)."""
        if not self.has_memo("routing"):
            return None
        try:
            results = self.routing()
        except Exception:  # the memo re-raises whatever depth 4 failed with; its items already reported it
            return None
        return routing_notes(results)

    # Lifecycle -------------------------------------------------------------------------------------------------

    def header_lines(self) -> list[str]:
        options = self.options
        alerts = len(self.profile.alerts)
        lines = [
            f"alert-conformance: profile {self.profile.name} ({alerts} documented alerts), {self.pack_label}",
            f"alert-conformance: backend {options.backend}, time scale {options.time_scale:g}",
            f"alert-conformance: {budget_line(self.estimate())}",
        ]
        plan = self.behaviour_plan()
        coarse = sorted(key for key, grid in plan.grids.items() if grid.coarse)
        lines += [
            f"alert-conformance: {key} reads {format_span(plan.lookbacks[key].seconds)} back: depth 3 runs it on the "
            f"{plan.grids[key].describe()}"
            for key in coarse
        ]
        return lines

    def close(self) -> None:
        """Run finalizers (stop processes, revert faults) and remove the work folder. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        errors: list[BaseException] = []
        while self._finalizers:
            finalizer = self._finalizers.pop()
            try:
                finalizer()
            except BaseException as error:  # keep running the others: nothing may be left behind
                errors.append(error)
        shutil.rmtree(self.workdir, ignore_errors=True)
        if errors:
            raise errors[0]
