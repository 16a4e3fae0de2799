"""The fault registry: built-ins, a vendor's override through the hook, entry points."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint
from types import ModuleType
from typing import Any

import pytest
from conformance_plugins import registry as registry_module
from conformance_plugins.registry import FaultRegistry

from conformance.errors import BackendError
from conformance.kube.faults import FaultContext, Injector, Permission
from conformance.kube.placement import ResolvedTarget
from conformance.model.scenario import FAULT_KINDS, Scenario


@dataclass(frozen=True)
class NoParams:
    pass


class VendorFault(Injector):
    fault = "kill-pods"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, NoParams())

    def describe(self) -> str:
        return "the vendor's own way"

    def describe_revert(self) -> str:
        return "the vendor's own revert"

    def permissions(self) -> list[Permission]:
        return []

    def apply(self, ctx: FaultContext) -> None:
        """Nothing."""

    def revert(self, ctx: FaultContext) -> None:
        """Nothing."""


def test_every_fault_kind_is_built_in() -> None:
    assert sorted(FaultRegistry()) == sorted(FAULT_KINDS)


def test_a_vendor_replaces_a_fault() -> None:
    registry = FaultRegistry()
    registry.register("kill-pods", VendorFault)
    assert registry.get("kill-pods") is VendorFault


def test_only_injectors_register() -> None:
    with pytest.raises(TypeError, match=r"is not a conformance\.kube\.faults\.Injector subclass"):
        FaultRegistry().register("x", object)  # type: ignore[arg-type]


def test_unknown_fault_names_the_known_ones() -> None:
    known = "no injector is registered for fault 'nope' \\(known: clock-drift, control-plane-down, cordon-node"
    with pytest.raises(BackendError, match=known):
        FaultRegistry().get("nope")


def test_entry_points_load_modules_and_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    module = ModuleType("vendor_faults")

    def register_faults(registry: Any) -> None:
        registry.register("vendor-fault", VendorFault)

    module.register_faults = register_faults  # type: ignore[attr-defined]
    points = [
        EntryPoint("mod", "vendor_faults", "alert_conformance_faults"),
        EntryPoint("fn", "vendor_faults:register_faults", "alert_conformance_faults"),
    ]
    monkeypatch.setitem(__import__("sys").modules, "vendor_faults", module)
    monkeypatch.setattr(registry_module, "entry_points", lambda group: points)
    registry = FaultRegistry(builtins=False)
    assert registry.load_entry_points() == ["mod", "fn"]
    assert registry.get("vendor-fault") is VendorFault


def test_a_broken_entry_point_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [EntryPoint("bad", "no_such_module_here", "alert_conformance_faults")]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: points)
    with pytest.raises(BackendError, match="fault entry point bad \\(no_such_module_here\\) cannot be loaded"):
        FaultRegistry(builtins=False).load_entry_points()
