"""Command and exec doubles: a :class:`~conformance.tools.CommandRunner` and a
:class:`~conformance.kube.exec.PodExecutor` that record their calls and answer from a handler, so tests need no
binary and no pod."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from conformance.kube.exec import ExecCall, ExecResult
from conformance.tools import CommandResult


@dataclass
class FakeRunner:
    """A :class:`CommandRunner` for tests: records calls and answers from ``handler``."""

    handler: Callable[[Sequence[str]], CommandResult]
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def __call__(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        cwd: Path | None = None,
        input_text: str | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        self.calls.append(tuple(argv))
        return self.handler(argv)


@dataclass
class FakeExecutor:
    """A :class:`PodExecutor` for tests: records calls; ``handler`` answers (default: success, no output)."""

    handler: Callable[[ExecCall], ExecResult] = field(default=lambda call: ExecResult(0, ""))
    calls: list[ExecCall] = field(default_factory=list)

    def __call__(
        self, namespace: str, pod: str, container: str | None, argv: Sequence[str], *, timeout_s: float
    ) -> ExecResult:
        call = ExecCall(namespace, pod, container, tuple(argv))
        self.calls.append(call)
        return self.handler(call)
