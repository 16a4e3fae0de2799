"""Bundled profiles: one folder per vendor, each a ``profile.yaml`` and its reference pack (YAML only).

This file exists only so the folder installs as the ``conformance_profiles`` package.
"""
