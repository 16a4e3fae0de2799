"""Ctrl-C or SIGTERM in the middle of a live run, or while it starts, leaves no process and no temp dir behind.

Every wait here is on a condition with a deadline generous enough for a loaded machine (two xdist workers and
something else on two cores): the test only gets slower under load, never flaky. The moment of the interrupt is
not a guess after a fixed sleep but a fact: the run has reported its first status line (the stacks are up and
the run under way) and its Prometheus and Alertmanagers are running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.twin.processes import TEMP_PREFIX

pytestmark = [pytest.mark.needs_binaries, pytest.mark.live]

PACK = Path(__file__).parent / "data" / "live" / "pack"
#: the child's first status line touches this file (in its working folder)
RUNNING = "running"
#: at least one lane's Prometheus and its two Alertmanagers (the toy pack has two set-ups)
STACK_PROCESSES = 3
#: generous: under load the child needs seconds to import, start its stacks and stop them again
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 120.0
#: a process SIGKILLed as the run ends may still show in /proc for a moment before the kernel reaps it
GONE_TIMEOUT_S = 10.0

LIVE_RUN = f"""
import signal
from pathlib import Path

from conformance.twin.backend import TwinBackend
from conformance.testing.toy import toy_cluster, toy_profile, toy_runs

# Ctrl-C as a terminal delivers it: to a Python with its default handler. A test suite started in the background
# of a non-interactive shell (`make test &`, some CI runners) runs with SIGINT ignored, which every child inherits,
# and then the interrupt would never arrive (the cause of this test's failures under `make test`).
signal.signal(signal.SIGINT, signal.default_int_handler)


def status(line):
    print(line, flush=True)
    Path({RUNNING!r}).touch()


def test_long_live_run():
    profile, pack = toy_profile(Path({str(PACK)!r}))
    # time scale 2: the run lasts minutes, so the interrupt always lands in the middle of it
    backend = TwinBackend(profile, pack, time_scale=2.0, cluster_factory=toy_cluster)
    try:
        backend.run(toy_runs(profile), status=status)
    finally:
        backend.close()
"""


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        # The twin's children (Prometheus, Alertmanager) name their data dirs, under our TMPDIR, on the command
        # line; pytest itself does not.
        if text in cmdline and not name.startswith(("python", "pytest")):
            found.append(f"{entry.name}: {cmdline[:200]}")
    return found


def _stop_leftovers(text: str) -> None:
    """If the run under test failed to clean up, do it here so one failure does not leak processes."""
    for line in _processes_mentioning(text):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)


def _wait_for(
    condition: Callable[[], bool], timeout_s: float, what: str, child: subprocess.Popen[bytes], log: Path
) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` (with the child's output) after ``timeout_s`` or
    as soon as the child exits early."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if child.poll() is not None:
            pytest.fail(f"the live run ended before {what} (exit {child.returncode}):\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout_s:g}s:\n{log.read_text()}")
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("sig", "moment"),
    [
        (signal.SIGINT, "mid-run"),  # Ctrl-C in a terminal
        (signal.SIGTERM, "mid-run"),  # a CI job's timeout, `kill`
        (signal.SIGTERM, "starting"),  # while the lanes are still starting their processes
    ],
    ids=["sigint-mid-run", "sigterm-mid-run", "sigterm-while-starting"],
)
def test_interrupt_stops_everything(sig: signal.Signals, moment: str, tmp_path: Path, private_temp_dir: Path) -> None:
    # The child's TMPDIR is this test's private temp folder (see tests/conftest.py): only its own run's
    # processes and folders mention it.
    temp = str(private_temp_dir)
    (tmp_path / "test_run.py").write_text(LIVE_RUN)
    log = tmp_path / "output.log"
    with log.open("wb") as output:  # a file, not a pipe: nothing blocks when nobody reads it
        child = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", str(tmp_path / "test_run.py")],
            cwd=tmp_path,
            env={**os.environ, "TMPDIR": temp},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        if moment == "starting":
            # The first child process is up: the others (and the warm-ups) are still on their way.
            _wait_for(lambda: bool(_processes_mentioning(temp)), START_TIMEOUT_S, "first process", child, log)
        else:
            _wait_for(
                lambda: (tmp_path / RUNNING).exists() and len(_processes_mentioning(temp)) >= STACK_PROCESSES,
                START_TIMEOUT_S,
                "status line with Prometheus and the Alertmanagers running",
                child,
                log,
            )
        running = _processes_mentioning(temp)
        child.send_signal(sig)
        try:
            child.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the live run did not stop within {STOP_TIMEOUT_S:g}s of {sig.name}:\n{log.read_text()}")
        deadline = time.monotonic() + GONE_TIMEOUT_S
        while _processes_mentioning(temp) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        leftovers = _processes_mentioning(temp)
        _stop_leftovers(temp)
        text = log.read_text(errors="replace")
    assert running, text  # there was something to stop
    if sig == signal.SIGINT:
        assert "KeyboardInterrupt" in text, text
    assert leftovers == [], text
    assert [p.name for p in private_temp_dir.iterdir() if p.name.startswith(TEMP_PREFIX)] == [], text
