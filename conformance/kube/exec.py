"""Running a command inside a pod's container (``pods/exec``), behind a protocol a test double can replace.

The real executor uses the official client's websocket ``stream``; :class:`FakeExecutor` records each call and
answers from a handler, the way :class:`conformance.tools.FakeRunner` does for subprocesses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from conformance.errors import BackendError


@dataclass(frozen=True)
class ExecResult:
    returncode: int
    stdout: str
    stderr: str = ""


@dataclass(frozen=True)
class ExecCall:
    namespace: str
    pod: str
    container: str | None
    argv: tuple[str, ...]


class PodExecutor(Protocol):
    def __call__(
        self, namespace: str, pod: str, container: str | None, argv: Sequence[str], *, timeout_s: float
    ) -> ExecResult: ...


class StreamExecutor:
    """``pods/exec`` through the official client's websocket stream, with a timeout."""

    def __init__(self, api_client: Any) -> None:
        self.api_client = api_client

    def __call__(
        self, namespace: str, pod: str, container: str | None, argv: Sequence[str], *, timeout_s: float
    ) -> ExecResult:
        from kubernetes import client
        from kubernetes.stream import stream

        core = client.CoreV1Api(self.api_client)
        kwargs: dict[str, Any] = {"command": list(argv), "stderr": True, "stdin": False, "stdout": True, "tty": False}
        if container:
            kwargs["container"] = container
        try:
            response = stream(core.connect_get_namespaced_pod_exec, pod, namespace, _preload_content=False, **kwargs)
            response.run_forever(timeout=timeout_s)
            stdout, stderr = response.read_stdout(), response.read_stderr()
            if response.is_open():
                response.close()
                raise BackendError(f"exec in {namespace}/{pod}: {argv[0]} did not finish within {timeout_s:g}s")
            code = response.returncode
        except BackendError:
            raise
        except Exception as error:  # the websocket layer raises many unrelated types
            raise BackendError(f"exec in {namespace}/{pod} ({' '.join(argv)}): {error}") from None
        return ExecResult(int(code or 0), stdout or "", stderr or "")


def checked(result: ExecResult, what: str) -> ExecResult:
    """``result`` when it succeeded, else a :class:`BackendError` naming ``what`` with stderr."""
    if result.returncode != 0:
        detail = result.stderr.strip() or result.stdout.strip()
        raise BackendError(f"{what} failed (exit {result.returncode}): {detail}")
    return result
