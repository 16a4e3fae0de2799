"""Managed processes run in their own group and are always stopped; temp dirs always removed."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from conformance.errors import BackendError
from conformance.twin.processes import ManagedProcess, free_port, make_temp_dir, remove_temp_dir, stop_all


def wait_for_output(process: ManagedProcess, text: str, timeout_s: float = 30.0) -> None:
    """Until ``text`` is in the process's log: a loaded machine may take seconds to start a Python child."""
    deadline = time.monotonic() + timeout_s
    while text not in process.log_tail() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert text in process.log_tail(), f"{process.name} never printed {text!r} within {timeout_s:g}s"


def test_stop_terminates_the_whole_group(tmp_path: Path) -> None:
    # The child starts a grandchild; stopping the group must end both.
    code = (
        "import subprocess,sys,time; subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)']); "
        "print('up', flush=True); time.sleep(60)"
    )
    process = ManagedProcess("sleeper", [sys.executable, "-c", code], tmp_path / "log", tmp_path).start()
    assert process.pid is not None
    # Stopped before the grandchild exists, the group would be one process and the test would prove nothing.
    wait_for_output(process, "up")
    pgid = os.getpgid(process.pid)
    assert pgid == process.pid != os.getpgid(0)
    process.stop(term_timeout=5)
    assert not process.alive()
    # The orphaned grandchild, killed, lingers as a zombie until init reaps it: a moment, not a leak.
    deadline = time.monotonic() + 10
    while _group_exists(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group_exists(pgid), "a process of the group outlived stop()"
    process.stop()  # twice is fine


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_ignored_then_killed(tmp_path: Path) -> None:
    code = "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('x', flush=True); time.sleep(60)"
    process = ManagedProcess("stubborn", [sys.executable, "-c", code], tmp_path / "log", tmp_path).start()
    wait_for_output(process, "x")  # SIGTERM is ignored from here on: only the SIGKILL can end it
    process.stop(term_timeout=0.5, kill_timeout=5)
    assert not process.alive()


def test_wait_ready_reports_a_dead_process_with_its_log(tmp_path: Path) -> None:
    code = "import sys; print('bad flag --x'); sys.exit(2)"
    process = ManagedProcess("broken", [sys.executable, "-c", code], tmp_path / "log", tmp_path).start()
    with pytest.raises(BackendError, match=r"broken exited while starting:\nbad flag --x"):
        process.wait_ready(f"http://127.0.0.1:{free_port()}/-/ready", timeout=10)
    process.stop()


def test_temp_dirs_are_swept(tmp_path: Path) -> None:
    first = make_temp_dir("unit")
    second = make_temp_dir("unit")
    remove_temp_dir(first)
    assert not first.exists() and second.exists()
    stop_all()
    assert not second.exists()


def test_kill_gives_no_chance_to_leave_gracefully(tmp_path: Path) -> None:
    """A replica lost as when its node stops responding: SIGKILL at once, its SIGTERM handler never runs."""
    marker = tmp_path / "left"
    code = (
        "import signal, time, pathlib\n"
        f"signal.signal(signal.SIGTERM, lambda *a: (pathlib.Path({str(marker)!r}).write_text('bye'), exit(0)))\n"
        "print('up', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = ManagedProcess("replica", [sys.executable, "-c", code], tmp_path / "log", tmp_path).start()
    deadline = time.monotonic() + 10
    while "up" not in process.log_tail() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.kill()
    assert not process.alive()
    assert not marker.exists()
    process.stop()  # still safe afterwards
