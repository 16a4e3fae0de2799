"""Write ``report.json`` (exactly the documented keys) and ``report.html`` (a table and a timeline per alert)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from conformance.report.model import AlertRow, LiveReport

_COLOURS = {
    "pending": "#e0a800",
    "firing": "#d9480f",
    "notified": "#1c7ed6",
    "routed": "#74c0fc",  # posted to a receiver without integration: nobody notified
    "reverted": "#868e96",
    "resolved": "#2f9e44",
    "lost": "#000000",  # high availability: a replica lost
}
_VERDICT_COLOURS = {"pass": "#2f9e44", "fail": "#e03131", "xfail": "#f08c00", "skip": "#868e96"}
_WIDTH, _HEIGHT, _PAD = 420, 34, 8


def write_report(report: LiveReport, directory: Path) -> tuple[Path, Path]:
    """``directory/report.json`` and ``directory/report.html``; the folder is created when missing.

    ``report.json`` keeps exactly the documented keys; the contract, with which numbers the vendor documents and
    which are the reference pack's choice, goes to ``directory/contract.json`` beside it (and into the HTML).
    """
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "report.json"
    json_path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    if report.contract:
        contract = {"profile": report.profile, "alerts": report.contract}
        (directory / "contract.json").write_text(json.dumps(contract, indent=2) + "\n")
    html_path = directory / "report.html"
    html_path.write_text(render_html(report))
    return json_path, html_path


def _kind(event: str) -> str | None:
    for kind in ("resolved", "notified", "routed", "reverted", "firing", "pending", "lost"):
        if event.startswith(kind) or event.startswith(f"{kind} "):
            return kind
    return "resolved" if event.startswith("resolved") else None


def _counts(notifications: dict[str, dict[str, int]]) -> str:
    """``webhook/hook: 1 firing, 1 resolved`` per receiver, one per line."""
    lines = [
        f"{escape(receiver)}: " + ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        for receiver, counts in sorted(notifications.items())
    ]
    return "<br>".join(lines)


def timeline_svg(row: AlertRow) -> str:
    """The row's timeline as an inline SVG: the allowed notification window shaded, one mark per event."""
    times = [at for at, _ in row.timeline] + ([row.window[1]] if row.window else [])
    start = min([0.0, *times])
    end = max([1.0, *times]) * 1.05
    span = end - start

    def x(at: float) -> float:
        return _PAD + (at - start) / span * (_WIDTH - 2 * _PAD)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" role="img" '
        f'aria-label="timeline of {escape(row.alert)}">',
        f'<line x1="{_PAD}" y1="20" x2="{_WIDTH - _PAD}" y2="20" stroke="#adb5bd"/>',
        f'<line x1="{x(0):.1f}" y1="6" x2="{x(0):.1f}" y2="30" stroke="#212529" stroke-dasharray="2,2">'
        "<title>fault injected (0s)</title></line>",
    ]
    if row.window:
        low, high = row.window
        parts.append(
            f'<rect x="{x(low):.1f}" y="12" width="{max(x(high) - x(low), 1):.1f}" height="16" fill="#d0ebff">'
            f"<title>allowed notification window {low:.2f}s to {high:.2f}s</title></rect>"
        )
    for at, event in sorted(row.timeline):
        kind = _kind(event)
        if kind is None:
            continue
        parts.append(
            f'<circle cx="{x(at):.1f}" cy="20" r="4" fill="{_COLOURS[kind]}"><title>{at:+.2f}s {escape(event)}'
            "</title></circle>"
        )
    parts.append(f'<text x="{_WIDTH - _PAD}" y="33" font-size="9" text-anchor="end">{end:.1f}s</text>')
    parts.append("</svg>")
    return "".join(parts)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _documented(value: dict[str, Any] | None, text: str) -> str:
    if value is None:
        return "&ndash;"
    tag = "documented" if value["documented"] else "pack's choice"
    note = f' title="{escape(value["note"])}"' if value.get("note") else ""
    return f"{escape(text)} <em{note}>({tag})</em>"


def _seconds_text(value: dict[str, Any] | None) -> str:
    return "" if value is None else f"{value['seconds']:g}s"


def _contract_row(entry: dict[str, Any]) -> str:
    threshold = entry["threshold"]
    condition = threshold["condition"] if threshold else ""
    return (
        f"<tr><td>{escape(entry['alert'])}</td><td>{escape(entry['severity'])}</td>"
        f"<td>{_documented(threshold, condition)}</td>"
        f"<td>{_documented(entry['for'], _seconds_text(entry['for']))}{_judged(entry, 'for')}</td>"
        f"<td>{_documented(entry['window'], _seconds_text(entry['window']))}{_judged(entry, 'window')}</td>"
        f"<td>{_settings_text(entry.get('settings') or {})}</td>"
        f"<td>{escape(entry['source'])}</td></tr>"
    )


def _judged(entry: dict[str, Any], name: str) -> str:
    """Under an undocumented duration, the value the timing was judged with, where it came from and why."""
    for value in entry.get("judged_with") or []:
        if value["name"] == name and not value["documented"] and (value["seconds"] or entry.get(name)):
            why = escape(f"{value['from']}: {value['why']}")
            return f'<br><small title="{why}">judged with {value["seconds"]:g}s (the pack\'s own)</small>'
    return ""


def _settings_text(settings: dict[str, dict[str, Any]]) -> str:
    """Each set-up's notification settings, each marked documented or the pack's choice."""
    lines = []
    for setup, values in settings.items():
        shown = ", ".join(_documented(value, f"{name} {value['value']}") for name, value in values.items())
        lines.append(f"{escape(setup)}: {shown}")
    return "<br>".join(lines)


def render_html(report: LiveReport) -> str:
    rows = []
    for row in report.rows:
        colour = _VERDICT_COLOURS[row.verdict]
        rows.append(
            "<tr>"
            f"<td>{escape(row.alert)}</td><td>{escape(row.severity)}</td>"
            f'<td style="color:{colour};font-weight:bold">{row.verdict}</td>'
            f"<td>{_seconds(row.documented_threshold_s)}</td><td>{_seconds(row.predicted_fire_s)}</td>"
            f"<td>{_seconds(row.measured_fire_s)}</td><td>{_seconds(row.measured_notify_s)}</td>"
            f"<td>{escape(row.receiver or '')}</td><td>{_counts(row.notifications)}</td><td>{timeline_svg(row)}</td>"
            f'<td class="reason">{escape(row.reason)}</td>'
            "</tr>"
        )
    legend = " ".join(f'<span style="color:{colour}">&#9679; {kind}</span>' for kind, colour in _COLOURS.items())
    contract = "".join(_contract_row(entry) for entry in report.contract)
    rewrites = "".join(f"<li>{escape(item)}</li>" for item in report.rewrites)
    notes = "".join(f"<li>{escape(item)}</li>" for item in report.notes)
    noise = "".join(
        f"<tr><td>{escape(str(item['alert']))}</td><td>{escape(str(item['state']))}</td>"
        f"<td>{'yes, documented to fire all the time' if item.get('expected') else 'yes' if item['profiled'] else 'no'}"
        "</td>"
        f"<td>{escape(', '.join(f'{k}={v}' for k, v in sorted(item['labels'].items())))}</td></tr>"
        for item in report.noise
    )
    counts = {v: sum(1 for r in report.rows if r.verdict == v) for v in _VERDICT_COLOURS}
    summary = ", ".join(f"{count} {verdict}" for verdict, count in counts.items() if count)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>alert-conformance: {escape(report.profile)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #dee2e6; padding: 4px 8px; vertical-align: top; font-size: 13px; }}
th {{ background: #f1f3f5; }}
td.reason {{ white-space: pre-wrap; max-width: 40em; font-family: monospace; font-size: 11px; }}
</style></head><body>
<h1>Live conformance: {escape(report.profile)}</h1>
<p>Backend {escape(report.backend)}, time scale {report.time_scale:g} (every duration divided by it; times below are
wall seconds as measured, from the fault's injection). {escape(summary)}.</p>
<p>{legend} <span style="background:#d0ebff">&nbsp;allowed notification window&nbsp;</span></p>
<table>
<tr><th>alert</th><th>severity</th><th>verdict</th><th>documented threshold (s)</th><th>predicted fire (s)</th>
<th>measured fire (s)</th><th>measured notify (s)</th><th>receiver</th><th>notifications</th><th>timeline</th>
<th>reason</th></tr>
{"".join(rows)}
</table>
{
        f"<h2>The documented contract</h2><table><tr><th>alert</th><th>severity</th><th>threshold</th><th>for</th>"
        f"<th>window</th><th>notification settings</th><th>source</th></tr>{contract}</table>"
        if contract
        else ""
    }
<h2>Noise: alerts pending or firing on the healthy cluster</h2>
{
        "<table><tr><th>alert</th><th>state</th><th>in the profile</th><th>labels</th></tr>" + noise + "</table>"
        if noise
        else "<p>none</p>"
    }
<h2>What the twin rewrote</h2><ul>{rewrites or "<li>nothing</li>"}</ul>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
{_silent_html(report.rows)}
{_routing_notes_html(report.routing_notes)}
{_coverage_html(report.coverage)}
</body></html>
"""


def _silent_html(rows: list[AlertRow]) -> str:
    """Each scenario documented to stay silent, with its verdict at every depth that judged it."""
    lines = "".join(
        f"<tr><td>{escape(row.alert)}</td><td>{escape(silent.scenario)}</td><td>{silent.depth}</td>"
        f'<td style="color:{_VERDICT_COLOURS[silent.verdict]};font-weight:bold">{silent.verdict}</td>'
        f'<td class="reason">{escape(silent.detail)}</td></tr>'
        for row in rows
        for silent in row.silent_scenarios
    )
    if not lines:
        return ""
    return (
        "<h2>Scenarios documented to stay silent</h2><p>Failures the document says must not raise the alert: "
        "each must neither fire nor notify while its fault holds. A scenario <i>silent for</i> some labels raises "
        "the alert for other objects, and must not for those.</p><table><tr><th>alert</th><th>scenario</th>"
        f"<th>depth</th><th>verdict</th><th>what happened</th></tr>{lines}</table>"
    )


def _routing_notes_html(notes: list[dict[str, str]] | None) -> str:
    """Depth 4's notes, every one (the terminal summary lists the first few)."""
    if not notes:
        return ""
    lines = "".join(
        f"<tr><td>{escape(note['alert'])}</td><td>{escape(note['setup'])}</td><td>{escape(note['note'])}</td></tr>"
        for note in notes
    )
    return (
        f"<h2>Routing notes</h2><p>{len(notes)} notes of depth 4: true, but no failure.</p><table><tr><th>alert</th>"
        f"<th>set-up</th><th>note</th></tr>{lines}</table>"
    )


def _coverage_html(coverage: dict[str, list[str]] | None) -> str:
    """The pack's alerts whose selectors match no series of the simulated cluster, one row each."""
    if coverage is None:
        return ""
    if not coverage:
        return "<h2>Coverage</h2><p>Every selector of the pack matches series of the simulated cluster.</p>"
    rows = "".join(
        f'<tr><td>{escape(alert)}</td><td class="reason">{escape(chr(10).join(found))}</td></tr>'
        for alert, found in coverage.items()
    )
    return (
        f"<h2>Coverage</h2><p>{len(coverage)} alerts of the pack read series the simulated cluster never has: they "
        "cannot fire in it, whatever the fault.</p><table><tr><th>alert</th><th>selectors matching no series</th>"
        f"</tr>{rows}</table>"
    )
