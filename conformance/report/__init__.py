"""The certification report: ``report.json`` for machines and ``report.html`` for people, one row per alert."""

from conformance.report.model import AlertRow, LiveReport
from conformance.report.writer import write_report

__all__ = ["AlertRow", "LiveReport", "write_report"]
