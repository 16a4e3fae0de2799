"""Certification reports: report.json for machines, report.html for people."""
