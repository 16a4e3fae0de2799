"""report.json has exactly the documented keys; report.html has a row and a timeline picture per alert."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

from conformance.report import AlertRow, LiveReport, write_report
from conformance.report.model import SilentVerdict
from conformance.report.writer import timeline_svg


def test_report_json_and_html(tmp_path: Path) -> None:
    report = LiveReport("runai", 20.0)
    report.add(
        AlertRow(
            "RunaiX",
            "critical",
            "pass",
            "",
            15.0,
            16.0,
            16.5,
            17.2,
            "helm/webhook",
            notifications={"helm/webhook": {"firing": 1, "resolved": 1}},
            timeline=[(1.0, "pending"), (16.5, "firing"), (17.2, "notified helm/webhook")],
            window=(16.0, 20.0),
        )
    )
    report.add(AlertRow("RunaiY", "warning", "xfail", "finding: <never>"))
    json_path, html_path = write_report(report, tmp_path / "out")
    data = json.loads(json_path.read_text())
    assert data["profile"] == "runai" and data["time_scale"] == 20.0
    assert list(data) == ["profile", "time_scale", "alerts", "noise"]
    assert data["alerts"][0] == {
        "alert": "RunaiX",
        "severity": "critical",
        "verdict": "pass",
        "reason": "",
        "documented_threshold_s": 15.0,
        "predicted_fire_s": 16.0,
        "measured_fire_s": 16.5,
        "measured_notify_s": 17.2,
        "receiver": "helm/webhook",
        "notifications": {"helm/webhook": {"firing": 1, "resolved": 1}},
        "silent_scenarios": [],
    }
    html = html_path.read_text()
    assert "helm/webhook: 1 firing, 1 resolved" in html
    assert html.count("<tr>") == 3 and "finding: &lt;never&gt;" in html and "time scale 20" in html


def test_timeline_svg_is_well_formed_and_marks_events() -> None:
    row = AlertRow(
        "A", "w", "fail", timeline=[(-2.0, "pending (healthy cluster)"), (3.0, "notified x/y")], window=(1.0, 2.0)
    )
    svg = ElementTree.fromstring(timeline_svg(row))
    circles = svg.findall("{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 2
    assert svg.find("{http://www.w3.org/2000/svg}rect") is not None


def test_adding_a_row_twice_keeps_the_last() -> None:
    report = LiveReport("p", 1.0)
    report.add(AlertRow("A", "w", "fail"))
    report.add(AlertRow("A", "w", "pass"))
    assert [r.verdict for r in report.rows] == ["pass"]


def test_contract_shows_what_is_documented_and_what_is_the_packs_choice(tmp_path: Path) -> None:
    from conformance.profiles import load_profile
    from conformance.report.contract import CHOSEN, contract_entries

    report = LiveReport("runai", 20.0)
    report.contract = contract_entries(load_profile("runai"))
    json_path, html_path = write_report(report, tmp_path)
    assert list(json.loads(json_path.read_text())) == ["profile", "time_scale", "alerts", "noise"]
    entries = {
        e["alert"] + ":" + e["severity"]: e for e in json.loads((tmp_path / "contract.json").read_text())["alerts"]
    }
    memory = entries["RunaiContainerMemoryUsageCritical:critical"]
    assert memory["threshold"]["condition"] == "container_memory_limit_ratio > 0.9"
    assert memory["threshold"]["documented"] is True
    # Run:ai documents no durations: the for: is marked as the reference pack's choice, with a note.
    assert memory["for"]["documented"] is False and memory["for"]["note"]
    assert all(not e["for"]["documented"] for e in entries.values())
    html = html_path.read_text()
    assert "The documented contract" in html and "(pack's choice)" in html and "(documented)" in html
    assert f'<em title="{memory["for"]["note"][:20]}' in html  # the note travels with the mark
    assert CHOSEN.startswith("the reference pack's choice")
    # The notification settings of each set-up the alert must reach, with the seed's quote where documented.
    webhook = memory["settings"]["webhook"]
    assert webhook["group_wait"]["value"] == 30.0 and webhook["group_wait"]["documented"] is True
    assert webhook["group_wait"]["quote"] and webhook["send_resolved"]["value"] is True
    assert "notification settings" in html and "group_wait 30.0" in html


def test_each_silent_scenario_shows_its_verdict_in_json_and_html(tmp_path: Path) -> None:
    stayed = SilentVerdict("cordon-is-no-outage", "live", "pass", "stayed silent as documented: neither fired ...")
    fired = SilentVerdict("one-restart", "behaviour", "fail", "fires 2m after the fault although <not documented>")
    report = LiveReport("p", 10.0)
    report.add(AlertRow("ApiDown", "critical", "fail", silent_scenarios=[stayed, fired]))
    report.add(AlertRow("Other", "warning", "pass"))
    json_path, html_path = write_report(report, tmp_path)
    rows = json.loads(json_path.read_text())["alerts"]
    assert rows[0]["silent_scenarios"] == [
        {"scenario": "cordon-is-no-outage", "depth": "live", "verdict": "pass", "detail": stayed.detail},
        {"scenario": "one-restart", "depth": "behaviour", "verdict": "fail", "detail": fired.detail},
    ]
    assert rows[1]["silent_scenarios"] == []
    html = html_path.read_text()
    section = html.split("<h2>Scenarios documented to stay silent</h2>", 1)[1].split("<h2>", 1)[0]
    assert section.count("<tr><td>ApiDown</td>") == 2 and "Other" not in section
    assert "<td>cordon-is-no-outage</td><td>live</td>" in section and "stayed silent as documented" in section
    assert "&lt;not documented&gt;" in section


def test_every_routing_note_is_in_the_report_not_only_the_first_twelve(tmp_path: Path) -> None:
    notes = [{"alert": f"Alert{i}", "setup": "chart", "note": f"reaches null #{i}"} for i in range(15)]
    report = LiveReport("p", 1.0, "static", routing_notes=notes)
    json_path, html_path = write_report(report, tmp_path)
    assert json.loads(json_path.read_text())["routing_notes"] == notes
    html = html_path.read_text()
    assert "<h2>Routing notes</h2>" in html and all(f"reaches null #{i}<" in html for i in range(15))
    # Depth 4 not run: no key, no section (an empty list would claim it found nothing).
    json_path, html_path = write_report(LiveReport("p", 1.0), tmp_path)
    assert "routing_notes" not in json.loads(json_path.read_text())
    assert "Routing notes" not in html_path.read_text()
