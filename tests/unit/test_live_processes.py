"""Managed processes run in their own group and are always stopped; temp dirs always removed."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import pytest

from conformance.errors import BackendError
from conformance.twin.processes import (
    ManagedProcess,
    free_port,
    make_temp_dir,
    release_port,
    remove_temp_dir,
    stop_all,
    stop_processes,
)


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


def test_free_ports_are_never_handed_out_twice_and_stay_out_of_the_ephemeral_range() -> None:
    # bind(0) ports come back again (another lane's thread may get the one just picked before its child binds
    # it) and are those every outgoing connection uses: neither may happen to a child's listening port.
    floor = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(300)]
    try:
        assert len(set(ports)) == len(ports)
        assert all(port < floor for port in ports)
    finally:
        for port in ports:
            release_port(port)


def test_a_port_taken_since_it_was_picked_is_seen_as_lost(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        # What Prometheus and Alertmanager print when they cannot listen.
        code = "\n".join(
            [
                "import socket, sys",
                "try:",
                f"    socket.socket().bind(('127.0.0.1', {port}))",
                "except OSError:",
                f"    print('listen tcp 127.0.0.1:{port}: bind: address already in use', flush=True)",
                "    sys.exit(1)",
            ]
        )
        process = ManagedProcess("taken", [sys.executable, "-c", code], tmp_path / "log", tmp_path).start()
        with pytest.raises(BackendError, match="exited while starting"):
            process.wait_ready(f"http://127.0.0.1:{port}/-/ready", timeout=30)
    assert process.lost_its_port()
    process.stop()


def test_processes_are_stopped_together_not_one_after_the_other(tmp_path: Path) -> None:
    # "first" leaves only once "second" has left, as an Alertmanager waits for its peers: stopped one after
    # the other, "first" would wait for a SIGTERM "second" never gets and be killed; stopped together both
    # leave gracefully.
    second_left = tmp_path / "second-left"
    first = (
        "import os,signal,sys,time\n"
        "def leave(*_):\n"
        f"    while not os.path.exists({str(second_left)!r}): time.sleep(0.02)\n"
        "    print('first left', flush=True); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, leave); print('up', flush=True)\n"
        "while True: time.sleep(1)\n"
    )
    second = (
        "import pathlib,signal,sys,time\n"
        f"signal.signal(signal.SIGTERM, lambda *_: (pathlib.Path({str(second_left)!r}).touch(), sys.exit(0)))\n"
        "print('up', flush=True)\n"
        "while True: time.sleep(1)\n"
    )
    processes = [
        ManagedProcess(name, [sys.executable, "-c", code], tmp_path / f"{name}.log", tmp_path).start()
        for name, code in (("first", first), ("second", second))
    ]
    for process in processes:
        wait_for_output(process, "up")
    assert stop_processes(processes, term_timeout=30) == []
    assert not any(process.alive() for process in processes)
    assert "first left" in processes[0].log_tail()
