"""The kind cluster of ``--backend kind``: create or reuse by name, kubeconfig, node agent, and deletion policy.

``kind``, ``helm`` and ``docker`` come from their options, environment variables or PATH
(:func:`conformance.tools.find_tool`); a missing one is one :class:`~conformance.errors.ToolNotFoundError` line
before anything starts. Commands run through a :class:`~conformance.tools.CommandRunner` (argv lists, timeouts),
so the lifecycle is tested with :class:`~conformance.tools.FakeRunner`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from conformance.errors import BackendError, ToolError
from conformance.options import KeepCluster, Options
from conformance.tools import CommandResult, CommandRunner, find_tool, run_command

KIND_TOOLS = ("kind", "helm", "docker")
#: kubeadm's static pod folder, and where control-plane-down parks a manifest (outside it: the kubelet reads every
#: file of the folder).
STATIC_MANIFESTS = "/etc/kubernetes/manifests"
PARKED_MANIFESTS = "/etc/kubernetes/alert-conformance-parked"


def find_kind_tools(options: Options) -> dict[str, Path]:
    """kind, helm and docker, or the first missing one as one ToolNotFoundError line."""
    return {tool: find_tool(tool, options.tools.get(tool)) for tool in KIND_TOOLS}


def should_delete(keep: KeepCluster, *, failed: bool, created: bool) -> bool:
    """Whether to delete the cluster at the end. A cluster this run did not create is never deleted."""
    if not created:
        return False
    return keep == "never" or (keep == "on-failure" and not failed)


@dataclass
class KindCluster:
    """One kind cluster by name."""

    name: str
    kind: Path
    docker: Path
    runner: CommandRunner = run_command
    create_timeout_s: float = 600.0
    created: bool = False
    log: list[str] = field(default_factory=list)

    def _run(self, *args: str, timeout_s: float = 120.0, what: str = "") -> CommandResult:
        argv = [str(self.kind), *args]
        result = self.runner(argv, timeout=timeout_s)
        if result.returncode != 0:
            raise ToolError(
                f"kind {what or args[0]} failed (exit {result.returncode})", argv=argv, stderr=result.stderr
            )
        return result

    def exists(self) -> bool:
        clusters = self._run("get", "clusters", what="get clusters").stdout.split()
        return self.name in clusters

    def ensure(self, config: Path | None = None) -> str:
        """Reuse the cluster when it exists, else create it from ``config``; returns ``"reused"`` or ``"created"``.

        ``config`` is the run's own layout (:meth:`conformance.kube.layout.KindLayout.write_config`): there is no
        fixed one, as the number of workers follows the profile. A reused cluster is checked against the layout
        with :meth:`~conformance.kube.layout.KindLayout.check` once the API can be read.
        """
        if self.exists():
            self.log.append(f"reused kind cluster {self.name}")
            return "reused"
        if config is None:
            raise BackendError(
                f"kind cluster {self.name} does not exist and no cluster config was given to create it from "
                "(KindLayout.write_config of the run's plan)"
            )
        self._run(
            "create",
            "cluster",
            "--name",
            self.name,
            "--config",
            str(config),
            "--wait",
            "120s",
            timeout_s=self.create_timeout_s,
            what="create cluster",
        )
        self.created = True
        self.log.append(f"created kind cluster {self.name}")
        return "created"

    def write_kubeconfig(self, path: Path) -> Path:
        text = self._run("get", "kubeconfig", "--name", self.name, what="get kubeconfig").stdout
        path.write_text(text, encoding="utf-8")
        return path

    def nodes(self) -> list[str]:
        return sorted(self._run("get", "nodes", "--name", self.name, what="get nodes").stdout.split())

    def delete(self) -> None:
        self._run("delete", "cluster", "--name", self.name, timeout_s=300.0, what="delete cluster")
        self.log.append(f"deleted kind cluster {self.name}")

    def finish(self, keep: KeepCluster, *, failed: bool) -> str:
        """Apply ``--keep-cluster``; returns what was done, for the report."""
        if should_delete(keep, failed=failed, created=self.created):
            self.delete()
            return f"deleted kind cluster {self.name} (--keep-cluster {keep})"
        why = "it was reused, not created by this run" if not self.created else f"--keep-cluster {keep}"
        return f"kept kind cluster {self.name} ({why}); delete it with: kind delete cluster --name {self.name}"


@dataclass
class DockerNodeAgent:
    """Stops and starts the kubelet inside a kind node container (``docker exec <node> systemctl ...``)."""

    docker: Path
    runner: CommandRunner = run_command

    def _systemctl(self, node: str, verb: str) -> None:
        argv = [str(self.docker), "exec", node, "systemctl", verb, "kubelet"]
        result = self.runner(argv, timeout=60.0)
        if result.returncode != 0:
            raise ToolError(f"docker exec {node} systemctl {verb} kubelet failed", argv=argv, stderr=result.stderr)

    def stop_kubelet(self, node: str, *, hold_s: float) -> None:
        self._systemctl(node, "stop")

    def start_kubelet(self, node: str) -> None:
        self._systemctl(node, "start")

    def move_static_manifest(self, node: str, component: str, *, away: bool) -> None:
        """kubeadm's static pods: the kubelet runs every manifest in /etc/kubernetes/manifests and stops the pod
        of one that goes (it watches the folder), deleting its mirror pod."""
        inside, outside = f"{STATIC_MANIFESTS}/{component}.yaml", f"{PARKED_MANIFESTS}/{component}.yaml"
        source, target = (inside, outside) if away else (outside, inside)
        script = (
            f"mkdir -p {PARKED_MANIFESTS} && if [ -f {source} ]; then mv {source} {target}; else test -f {target}; fi"
        )
        argv = [str(self.docker), "exec", node, "sh", "-c", script]
        result = self.runner(argv, timeout=60.0)
        if result.returncode != 0:
            where = "out of" if away else "back into"
            raise ToolError(
                f"moving {component}.yaml {where} {STATIC_MANIFESTS} on {node} failed", argv=argv, stderr=result.stderr
            )

    def container_running(self, node: str, component: str) -> bool:
        argv = [str(self.docker), "exec", node, "crictl", "ps", "--name", f"^{component}$", "--state", "running", "-q"]
        result = self.runner(argv, timeout=60.0)
        if result.returncode != 0:
            raise ToolError(f"crictl ps on {node} failed", argv=argv, stderr=result.stderr)
        return bool(result.stdout.strip())

    def healthy(self, node: str, url: str) -> bool:
        argv = [str(self.docker), "exec", node, "curl", "-ksf", "--max-time", "5", url]
        return self.runner(argv, timeout=30.0).returncode == 0

    def mount_tmpfs(self, node: str, path: str, size_bytes: int) -> None:
        """A size-limited filesystem for a local PersistentVolume, so its volume stats are its own."""
        script = f"mkdir -p {path} && (mountpoint -q {path} || mount -t tmpfs -o size={size_bytes} tmpfs {path})"
        argv = [str(self.docker), "exec", node, "sh", "-c", script]
        result = self.runner(argv, timeout=60.0)
        if result.returncode != 0:
            raise ToolError(f"mounting {path} in {node} failed", argv=argv, stderr=result.stderr)
