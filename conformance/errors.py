"""The exception tree of alert-conformance.

Every error a user can cause carries a message that names the file, the place in it and what is wrong, so the
pytest plugin can print it as one line instead of a traceback::

    ConformanceError                      base of everything below
    ├── InputError(ValueError)            bad user input, with ``source`` (file) and ``place`` (path in it)
    │   ├── YamlSyntaxError               the file is not valid YAML
    │   ├── ProfileError                  a profile breaks its schema or its own rules
    │   ├── PackError                     an alert pack cannot be loaded (unknown form, duplicate alert ...)
    │   ├── PromQLError                   an expression does not parse
    │   └── RoutingConfigError            an Alertmanager config is inconsistent (undefined receiver ...)
    ├── UnknownProfileError(LookupError)  ``--profile`` names no bundled profile and no file
    ├── ToolNotFoundError(FileNotFoundError)  promtool, amtool, prometheus ... cannot be found
    ├── ToolError(RuntimeError)           a tool ran and failed unexpectedly (stderr attached)
    ├── BackendError(RuntimeError)        a backend (twin, kind, cluster) failed to start or act
    │   └── RevertError                   a fault could not be reverted: what may be left behind
    ├── BudgetError(RuntimeError)         depth 3 would exceed its memory or time budget (checked before it runs)
    └── SafetyError(PermissionError)      a run would touch what it is not allowed to touch
"""

from __future__ import annotations


class ConformanceError(Exception):
    """Base class: ``str(err)`` is a complete, single-line-first explanation for a person."""


class InputError(ConformanceError, ValueError):
    """Bad user input. ``source`` is the file, ``place`` a location in it (line, or a path like ``alerts[3].name``)."""

    def __init__(self, message: str, *, source: str | None = None, place: str | None = None) -> None:
        self.message = message
        self.source = source
        self.place = place
        where = source or ""
        if place:
            where = f"{where}: {place}" if where else place
        super().__init__(f"{where}: {message}" if where else message)


class YamlSyntaxError(InputError):
    """The file is not valid YAML."""


class ProfileError(InputError):
    """A profile breaks its JSON Schema or one of the rules the schema cannot express.

    ``errors`` lists each error when this one stands for several (all errors of a file are reported at once).
    """

    def __init__(self, message: str, *, source: str | None = None, place: str | None = None) -> None:
        super().__init__(message, source=source, place=place)
        self.errors: list[ProfileError] = [self]


class PackError(InputError):
    """An alert pack cannot be loaded as any known form, or is inconsistent (duplicate alert names ...)."""


class PromQLError(InputError):
    """A PromQL expression does not parse."""


class RoutingConfigError(InputError):
    """An Alertmanager configuration is inconsistent: a route to an undefined receiver, a bad matcher ..."""


class UnknownProfileError(ConformanceError, LookupError):
    """``--profile`` names neither a bundled profile nor an existing profile file."""


class ToolNotFoundError(ConformanceError, FileNotFoundError):
    """A required binary cannot be found; the message says how to install it or point at it."""


class ToolError(ConformanceError, RuntimeError):
    """A tool ran and failed in a way that is not a verdict on the user's input."""

    def __init__(self, message: str, *, argv: list[str] | None = None, stderr: str = "") -> None:
        self.argv = argv or []
        self.stderr = stderr
        super().__init__(message + (f"\n{stderr.strip()}" if stderr.strip() else ""))


class BackendError(ConformanceError, RuntimeError):
    """A backend (live twin, kind, existing cluster) could not start, act or stop."""


class RevertError(BackendError):
    """One or more reverts failed: the message lists what may be left behind, and how to find it."""


class BudgetError(ConformanceError, RuntimeError):
    """Depth 3 would exceed the run's memory or time budget; nothing ran. The message names the alert, the rule
    and the window responsible and the options that raise the budget."""


class SafetyError(ConformanceError, PermissionError):
    """The run would change something it has not been allowed to change; nothing was touched."""
