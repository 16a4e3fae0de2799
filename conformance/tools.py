"""Finding and running the external tools: promtool, amtool, prometheus, alertmanager, kind, helm, docker.

Resolution order for each tool: an explicit path (a pytest option), its environment variable
(``PROMTOOL``, ``AMTOOL``, ``PROMETHEUS``, ``ALERTMANAGER``, ``KIND``, ``HELM``, ``DOCKER``), then ``PATH`` (under
each of its known names: Debian installs Alertmanager as ``prometheus-alertmanager``), then the cache folder
``$ALERT_CONFORMANCE_CACHE/bin`` (default ``~/.cache/alert-conformance/bin``) that an installer may fill.
A missing tool is one :class:`ToolNotFoundError` line saying how to get it.

Commands run through a :class:`CommandRunner` (argv lists, never a shell, always a timeout, the parent's
environment copied then extended), which tests can replace with :class:`FakeRunner`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from conformance.errors import ToolError, ToolNotFoundError


@dataclass(frozen=True)
class ToolInfo:
    env_var: str
    names: tuple[str, ...]
    install_hint: str


_APT = "install it with `apt-get install -y --no-install-recommends prometheus prometheus-alertmanager`"
TOOLS: dict[str, ToolInfo] = {
    "promtool": ToolInfo("PROMTOOL", ("promtool",), _APT),
    "amtool": ToolInfo("AMTOOL", ("amtool",), _APT),
    "prometheus": ToolInfo("PROMETHEUS", ("prometheus",), _APT),
    "alertmanager": ToolInfo("ALERTMANAGER", ("alertmanager", "prometheus-alertmanager"), _APT),
    "kind": ToolInfo("KIND", ("kind",), "install kind (https://kind.sigs.k8s.io) and put it on PATH, or pass --kind"),
    "helm": ToolInfo("HELM", ("helm",), "install Helm 3 and put it on PATH, or pass --helm"),
    "docker": ToolInfo("DOCKER", ("docker",), "install Docker and start its engine, or pass --docker"),
}


def cache_bin_dir() -> Path:
    root = os.environ.get("ALERT_CONFORMANCE_CACHE") or str(Path.home() / ".cache" / "alert-conformance")
    return Path(root) / "bin"


def find_tool(tool: str, explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The executable for ``tool``; :class:`ToolNotFoundError` with an install hint when there is none."""
    info = TOOLS[tool]
    env = os.environ if environ is None else environ
    for origin, candidate in (("option", explicit), (f"${info.env_var}", env.get(info.env_var))):
        if candidate:
            path = Path(candidate)
            if path.is_file() and os.access(path, os.X_OK):
                return path
            raise ToolNotFoundError(f"{tool}: {candidate} (from {origin}) is not an executable file")
    for name in info.names:
        found = shutil.which(name, path=env.get("PATH"))
        if found:
            return Path(found)
    for name in info.names:
        cached = cache_bin_dir() / name
        if cached.is_file() and os.access(cached, os.X_OK):
            return cached
    names = " or ".join(info.names)
    raise ToolNotFoundError(f"{tool} not found ({names} is not on PATH, ${info.env_var} is unset): {info.install_hint}")


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout then stderr: promtool and amtool split their verdicts between both."""
        return self.stdout + self.stderr


class CommandRunner(Protocol):
    def __call__(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        cwd: Path | None = None,
        input_text: str | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> CommandResult: ...


def run_command(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    input_text: str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> CommandResult:
    """Run ``argv`` (no shell) with a timeout; a timeout or an unstartable binary is a :class:`ToolError`."""
    env = dict(os.environ)
    env.update(extra_env or {})
    try:
        completed = subprocess.run(
            list(argv),
            cwd=cwd,
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise ToolError(f"{argv[0]} did not finish within {timeout:g}s", argv=list(argv)) from error
    except OSError as error:
        raise ToolError(f"cannot run {argv[0]}: {error.strerror}", argv=list(argv)) from error
    return CommandResult(tuple(argv), completed.returncode, completed.stdout, completed.stderr)
