"""Ctrl-C in the middle of a live run leaves no process and no temp dir behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.twin.processes import TEMP_PREFIX

PACK = Path(__file__).parents[1] / "integration" / "data" / "live" / "pack"

LIVE_RUN = f"""
from pathlib import Path

from conformance.twin.backend import TwinBackend
from conformance.testing.toy import toy_cluster, toy_profile, toy_runs


def test_long_live_run():
    profile, pack = toy_profile(Path({str(PACK)!r}))
    backend = TwinBackend(profile, pack, time_scale=2.0, cluster_factory=toy_cluster)
    try:
        backend.run(toy_runs(profile), status=print)
    finally:
        backend.close()
"""


def _stop_leftovers(text: str) -> None:
    """If the run under test failed to clean up, do it here so one failure does not leak processes."""
    for line in _processes_mentioning(text):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)


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


@pytest.mark.needs_binaries
@pytest.mark.live
def test_sigint_mid_run_stops_everything(tmp_path: Path) -> None:
    if shutil.which("prometheus") is None:
        pytest.skip("prometheus not on PATH (apt-get install prometheus prometheus-alertmanager)")
    temp = tmp_path / "tmp"
    temp.mkdir()
    (tmp_path / "test_run.py").write_text(LIVE_RUN)
    env = {**os.environ, "TMPDIR": str(temp)}
    child = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", str(tmp_path / "test_run.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        # Wait until the stack is really up: Prometheus and the Alertmanagers run from dirs under our TMPDIR.
        deadline = time.monotonic() + 60
        while len(_processes_mentioning(str(temp))) < 3 and time.monotonic() < deadline:
            assert child.poll() is None, child.communicate()[0].decode()
            time.sleep(0.2)
        assert len(_processes_mentioning(str(temp))) >= 3, "the live run never started its stack"
        time.sleep(1.0)  # mid-run: scraping, healthy period
        child.send_signal(signal.SIGINT)
        output = child.communicate(timeout=60)[0].decode()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        leftovers = _processes_mentioning(str(temp))
        _stop_leftovers(str(temp))
    assert "KeyboardInterrupt" in output
    assert leftovers == []
    assert [p.name for p in temp.iterdir() if p.name.startswith(TEMP_PREFIX)] == []
