"""The fault registry: fault kind name -> injector class, with the built-ins and entry-point extensions."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import entry_points
from types import ModuleType

from conformance.errors import BackendError
from conformance.kube.faults import Injector

ENTRY_POINT_GROUP = "alert_conformance_faults"


class FaultRegistry:
    """Injector classes by fault name. Registering an existing name replaces it (a vendor's override)."""

    def __init__(self, *, builtins: bool = True) -> None:
        self._injectors: dict[str, type[Injector]] = {}
        if builtins:
            from conformance_plugins import register_faults

            register_faults(self)

    def register(self, name: str, injector_cls: type[Injector]) -> None:
        """Make ``injector_cls`` the injector for fault ``name``."""
        if not (isinstance(injector_cls, type) and issubclass(injector_cls, Injector)):
            raise TypeError(f"fault {name!r}: {injector_cls!r} is not a conformance.kube.faults.Injector subclass")
        self._injectors[name] = injector_cls

    def get(self, name: str) -> type[Injector]:
        """The injector for ``name``; :class:`BackendError` naming the known faults when there is none."""
        try:
            return self._injectors[name]
        except KeyError:
            known = ", ".join(sorted(self._injectors))
            raise BackendError(f"no injector is registered for fault {name!r} (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._injectors

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._injectors))

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> list[str]:
        """Load every entry point of ``group``: a module with ``register_faults(registry)`` or such a function.

        Returns the names of the entry points loaded. A broken entry point is a :class:`BackendError` naming it.
        """
        loaded: list[str] = []
        for entry in entry_points(group=group):
            try:
                target = entry.load()
            except Exception as error:
                raise BackendError(
                    f"fault entry point {entry.name} ({entry.value}) cannot be loaded: {error}"
                ) from None
            register = getattr(target, "register_faults", None) if isinstance(target, ModuleType) else target
            if not callable(register):
                raise BackendError(
                    f"fault entry point {entry.name} ({entry.value}) is neither a module with register_faults() "
                    "nor a function"
                )
            register(self)
            loaded.append(entry.name)
        return loaded


def default_registry() -> FaultRegistry:
    """The built-ins plus everything installed packages add through the entry-point group."""
    registry = FaultRegistry()
    registry.load_entry_points()
    return registry
