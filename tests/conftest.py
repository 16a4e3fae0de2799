"""Shared test configuration: pytester for plugin acceptance tests."""

pytest_plugins = ["pytester"]
