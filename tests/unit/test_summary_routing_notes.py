"""The terminal's "routing notes" list is cut at 12: the cut says how many more and where every one of them is."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.options import Options
from conformance.packs.loader import load_pack
from conformance.plugin import SUMMARY_ALERTS, _quiet_receivers
from conformance.profiles import load_profile
from conformance.session import ConformanceSession
from conformance.static.routing_check import check_routing
from conformance.suite.conftest import _routing_notes as report_notes


class Terminal:
    """What the summary writes, section titles and lines in order."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def section(self, title: str, sep: str = "=") -> None:
        self.lines.append(f"[{title}]")

    def write_line(self, line: str) -> None:
        self.lines.append(line)


def _session(tmp_path: Path, report_dir: Path | None) -> ConformanceSession:
    """kube-prometheus after depth 4 (in-process routing): the chart's inhibit rule can mute every warning."""
    profile = load_profile("kube-prometheus")
    pack = load_pack(profile.pack_path)
    session = ConformanceSession(Options("kube-prometheus", report_dir=report_dir), profile, pack, tmp_path)
    session.memo("routing", lambda: check_routing(profile.alerts, profile.routing, pack, {}, {}, amtool=None))
    return session


def test_the_cut_says_how_many_more_and_names_the_report_that_has_them_all(tmp_path: Path) -> None:
    out = tmp_path / "report"
    session = _session(tmp_path, out)
    notes = session.routing_notes()
    # One note per warning entry of the profile: a firing critical alert of the same name and namespace mutes it.
    warnings = sum(1 for alert in session.profile.alerts if alert.severity == "warning")
    assert notes is not None and len(notes) == warnings > SUMMARY_ALERTS
    terminal = Terminal()
    _quiet_receivers(terminal, session)
    assert terminal.lines[0] == "[alert-conformance: routing notes]"
    assert terminal.lines[1:-1] == [f"  {note.describe()}" for note in notes[:SUMMARY_ALERTS]]
    assert terminal.lines[-1] == (
        f"  ... and {warnings - SUMMARY_ALERTS} more: every one in {out / 'report.json'} (key routing_notes) and "
        f"{out / 'report.html'}"
    )
    # What the suite puts in the report under that key: every note, the one cut from the terminal included.
    entries = report_notes(session)
    assert entries is not None and len(entries) == warnings
    assert entries[-1] == {"alert": "TargetDown", "setup": "chart", "note": notes[-1].note}


def test_without_a_report_the_cut_says_how_to_get_one(tmp_path: Path) -> None:
    terminal = Terminal()
    session = _session(tmp_path, None)
    _quiet_receivers(terminal, session)
    more = sum(1 for alert in session.profile.alerts if alert.severity == "warning") - SUMMARY_ALERTS
    assert terminal.lines[-1] == (
        f"  ... and {more} more: --conformance-report DIR writes every one to DIR/report.json (key routing_notes) and "
        "DIR/report.html"
    )


def test_no_notes_when_depth_4_did_not_run_or_failed_as_a_whole(tmp_path: Path) -> None:
    profile = load_profile("kube-prometheus")
    session = ConformanceSession(Options("kube-prometheus"), profile, load_pack(profile.pack_path), tmp_path)
    assert session.routing_notes() is None  # a live-only run: depth 4 never ran

    def broken() -> dict[tuple[str, str], object]:
        raise FileNotFoundError("amtool not found")

    with pytest.raises(FileNotFoundError):
        session.memo("routing", broken)
    assert session.routing_notes() is None
    terminal = Terminal()
    _quiet_receivers(terminal, session)
    assert terminal.lines == []
