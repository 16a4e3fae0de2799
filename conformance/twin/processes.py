"""Child processes of the twin (Prometheus, Alertmanager) that are always stopped.

Each process runs in its own process group with its output in a log file. :meth:`ManagedProcess.stop` sends
SIGTERM to the group, waits, then SIGKILL, each with a deadline. Every started process and temp dir is also
registered for an ``atexit`` sweep, and SIGTERM to the run (when nobody else handles it) is turned into a
normal exit so the sweep happens: a crashed or interrupted run leaves nothing behind.
Ctrl-C needs no handler: pytest turns it into ``KeyboardInterrupt`` and the ``finally`` blocks stop everything.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import requests

from conformance.errors import BackendError

_REGISTRY_LOCK = threading.Lock()
_RUNNING: dict[int, ManagedProcess] = {}
_TEMP_DIRS: set[Path] = set()
_HOOKS: list[bool] = []  # non-empty once the exit hooks are installed

TEMP_PREFIX = "alert-conformance-twin-"


_PORTS_LOCK = threading.Lock()
_HANDED_OUT: set[int] = set()
_EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST_PORT = 10000
#: How often a child that lost its port to someone else is started again on another.
PORT_ATTEMPTS = 3


def _ephemeral_floor() -> int:
    """The lowest port the kernel hands to outgoing connections and ``bind(0)`` (Linux's default: 32768)."""
    try:
        return int(_EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, for a child process to listen on.

    Not ``bind(0)``: the kernel hands those ports out again (another lane's thread may get the same one before
    its child binds it) and uses the same range for every outgoing connection (a scrape's client socket may take
    it). So the port is drawn at random below the ephemeral range, never one handed out in this process and not
    yet released (:func:`release_port`), and checked free by binding it. Another process on the machine may
    still take it first: :meth:`ManagedProcess.lost_its_port` tells, and the caller starts again elsewhere.
    """
    ceiling = _ephemeral_floor()
    if ceiling - _LOWEST_PORT < 1000:  # an unusual range: fall back to the kernel's choice
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    with _PORTS_LOCK:
        for _ in range(200):
            port = random.randrange(_LOWEST_PORT, ceiling)
            if port in _HANDED_OUT or not _bindable(port):
                continue
            _HANDED_OUT.add(port)
            return port
    raise BackendError(f"no free TCP port on 127.0.0.1 between {_LOWEST_PORT} and {ceiling} after 200 tries")


def release_port(port: int) -> None:
    """``port`` may be handed out again (its process has stopped)."""
    with _PORTS_LOCK:
        _HANDED_OUT.discard(port)


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def make_temp_dir(label: str) -> Path:
    """A fresh temp dir, removed by :func:`remove_temp_dir` or at exit at the latest."""
    _install_hooks()
    path = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{label}-"))
    with _REGISTRY_LOCK:
        _TEMP_DIRS.add(path)
    return path


def remove_temp_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    with _REGISTRY_LOCK:
        _TEMP_DIRS.discard(path)


class ManagedProcess:
    """One long-running child: ``argv`` (no shell) in its own process group, output to ``log_path``."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, cwd: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def start(self) -> ManagedProcess:
        _install_hooks()
        with open(self.log_path, "ab") as log:
            try:
                self._popen = subprocess.Popen(
                    self.argv,
                    cwd=self.cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # own process group: stopped as a whole, not hit by the terminal's ^C
                )
            except OSError as error:
                raise BackendError(f"cannot start {self.name} ({self.argv[0]}): {error.strerror}") from error
        with _REGISTRY_LOCK:
            _RUNNING[self._popen.pid] = self
        return self

    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def stop(self, term_timeout: float = 5.0, kill_timeout: float = 5.0) -> None:
        """SIGTERM the group, wait ``term_timeout``, then SIGKILL and wait ``kill_timeout``. Safe to call twice."""
        popen = self._popen
        if popen is None:
            return
        try:
            if popen.poll() is None:
                self._signal_group(signal.SIGTERM)
                try:
                    popen.wait(timeout=term_timeout)
                except subprocess.TimeoutExpired:
                    self._signal_group(signal.SIGKILL)
                    popen.wait(timeout=kill_timeout)
            # Anything else left in the group (there should be nothing) goes too.
            self._signal_group(signal.SIGKILL)
        finally:
            with _REGISTRY_LOCK:
                _RUNNING.pop(popen.pid, None)

    def terminate(self) -> None:
        """SIGTERM the group without waiting (see :func:`stop_processes`)."""
        if self._popen is not None and self._popen.poll() is None:
            self._signal_group(signal.SIGTERM)

    def reload(self) -> None:
        """SIGHUP the group: Prometheus and Alertmanager read their configuration again."""
        if self._popen is not None and self._popen.poll() is None:
            self._signal_group(signal.SIGHUP)

    def kill(self, timeout: float = 5.0) -> None:
        """SIGKILL the group at once, with no chance to leave a cluster gracefully (as when its node stops
        responding), and wait for it. It stays registered until :meth:`stop`."""
        popen = self._popen
        if popen is None or popen.poll() is not None:
            return
        self._signal_group(signal.SIGKILL)
        popen.wait(timeout=timeout)

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self._popen is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, sig)

    def peak_rss_bytes(self) -> int | None:
        """The process's peak resident memory so far (Linux ``VmHWM``), None when unknown."""
        if self._popen is None:
            return None
        try:
            status = Path(f"/proc/{self._popen.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return None

    def log_tail(self, max_chars: int = 4000) -> str:
        """The end of the process's log (empty when there is none)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return text[-max_chars:]

    def lost_its_port(self) -> bool:
        """Whether the process exited because an address it was told to listen on was taken."""
        return not self.alive() and "address already in use" in self.log_tail(20000)

    def wait_ready(self, url: str, timeout: float) -> None:
        """Poll ``url`` until it answers 200; :class:`BackendError` with the log's tail if the process dies or
        ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if not self.alive():
                raise BackendError(f"{self.name} exited while starting:\n{self.log_tail()}")
            try:
                response = requests.get(url, timeout=1.0)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except requests.RequestException as error:
                last = type(error).__name__
            time.sleep(0.1)
        raise BackendError(f"{self.name} not ready at {url} after {timeout:g}s ({last}):\n{self.log_tail()}")


def stop_processes(processes: Sequence[ManagedProcess], term_timeout: float = 5.0) -> list[str]:
    """Stop ``processes`` together: SIGTERM to every group first, then each waited for (SIGKILL once
    ``term_timeout`` has passed since the SIGTERM). One after the other, a run's dozens of children would take
    as many graceful shutdowns (an Alertmanager leaving its cluster takes a second) to stop.

    Returns one line per process that could not be stopped; the others are stopped whatever it holds.
    """
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    deadline = time.monotonic() + term_timeout
    errors: list[str] = []
    for process in processes:
        try:
            process.stop(term_timeout=max(0.0, deadline - time.monotonic()))
        except Exception as error:  # keep stopping the others
            errors.append(f"{process.name}: {error}")
    return errors


def stop_all() -> None:
    """Stop every process still running and remove every temp dir still there (the exit sweep)."""
    with _REGISTRY_LOCK:
        processes = list(_RUNNING.values())
        dirs = list(_TEMP_DIRS)
    stop_processes(processes, term_timeout=3.0)
    for path in dirs:
        remove_temp_dir(path)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # A normal exit runs finally blocks and atexit, which stop the children.
    raise SystemExit(128 + signum)


def install_exit_hooks() -> None:
    """Install the exit sweep and the SIGTERM handler now: call it on the main thread before starting stacks
    from worker threads (a signal handler can only be installed from the main thread)."""
    _install_hooks()


def _install_hooks() -> None:
    with _REGISTRY_LOCK:
        if _HOOKS:
            return
        _HOOKS.append(True)
    atexit.register(stop_all)
    if threading.current_thread() is threading.main_thread():
        with contextlib.suppress(ValueError):
            if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
                signal.signal(signal.SIGTERM, _on_sigterm)
