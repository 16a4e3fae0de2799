"""The profile format for authors is generated from the schema, its example is a profile that loads, and the
defaults it states are the ones the loader applies: the page cannot drift from the code."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.profiledoc import example_text, render_markdown
from conformance.profiles import load_profile
from conformance.profileschema import profile_schema
from conformance.quantities import parse_quantity

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "profile.md"
EXAMPLE = ROOT / "conformance" / "schema" / "example" / "profile.yaml"


def _properties(node: Any, where: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every property of every object of the schema, with its place (``$defs.alert.name``)."""
    if isinstance(node, Mapping):
        for key, value in node.get("properties", {}).items():
            if where.endswith(".if"):
                continue  # a condition's own properties are the keys it tests, described where they are defined
            yield f"{where}.{key}", value
        for key, value in node.items():
            yield from _properties(value, f"{where}.{key}" if where else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _properties(value, f"{where}[{index}]")


def test_docs_profile_md_is_what_the_schema_generates() -> None:
    assert PAGE.read_text(encoding="utf-8") == render_markdown(), (
        "docs/profile.md is out of date: python -m conformance profile-format > docs/profile.md"
    )


def test_every_property_of_the_schema_says_what_it_means() -> None:
    missing = [place for place, schema in _properties(profile_schema()) if not schema.get("description")]
    assert not missing, f"properties without a description: {missing}"
    objects = [name for name, schema in profile_schema()["$defs"].items() if not schema.get("description")]
    assert not objects, f"definitions without a description: {objects}"


def test_every_key_of_every_object_has_a_row_in_the_page() -> None:
    page = render_markdown()
    for place, _ in _properties(profile_schema()):
        section, key = place.rsplit(".", 1)
        name = section.split(".")[1] if section.startswith("$defs.") else "profile"
        chapter = page.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        assert f"\n| `{key}` | " in chapter, place


def test_the_example_in_the_page_is_the_example_profile_and_it_loads() -> None:
    assert example_text() == EXAMPLE.read_text(encoding="utf-8")
    assert f"```yaml\n{example_text()}```" in render_markdown()
    profile = load_profile(str(EXAMPLE))
    assert [alert.key for alert in profile.alerts] == [
        "ApiDown[critical]",
        "ApiMemoryHigh[warning]",
        "ApiRestarting[warning]",
        "Watchdog[none]",
    ]
    watchdog = profile.alert("Watchdog[none]")
    assert (watchdog.notifies, watchdog.receivers, watchdog.scenarios[0].fault) == (False, {"default": "null"}, "none")
    memory = profile.alert("ApiMemoryHigh[warning]")
    assert [(s.expect, s.level) for s in memory.scenarios] == [("fire", None), ("silent", 0.8)]
    assert memory.threshold is not None and memory.threshold.quote == "above 90% of its memory limit"


def _default(*path: str) -> Any:
    """The schema's default of ``key`` of the profile itself, or of ``definition, key``."""
    *definition, key = path
    schema = profile_schema()["$defs"][definition[0]] if definition else profile_schema()
    return schema["properties"][key]["default"]


def test_the_defaults_the_page_states_are_the_ones_the_loader_applies() -> None:
    """Examples that leave the defaulted keys out load with the values the schema states."""
    profile = load_profile(str(ROOT / "tests" / "data" / "profiles" / "good" / "every-fault-kind.yaml"))
    bare = load_profile(str(ROOT / "tests" / "data" / "profiles" / "good" / "minimal.yaml"))
    node = bare.environment.nodes[0]
    assert node.cpu_cores == _default("node", "cpu_cores")
    assert node.memory_bytes == parse_quantity(_default("node", "memory"))
    assert node.memory_used_ratio == _default("node", "memory_used_ratio")
    assert node.role == _default("node", "role")
    workload = bare.environment.workloads[0]
    assert workload.replicas == _default("workload", "replicas")
    container = workload.containers[0]
    assert container.image == _default("container", "image")
    assert container.cpu_limit_cores == parse_quantity(_default("container", "cpu_limit"))
    assert container.cpu_request_cores == parse_quantity(_default("container", "cpu_request"))
    assert container.memory_limit_bytes == parse_quantity(_default("container", "memory_limit"))
    assert container.memory_request_bytes == parse_quantity(_default("container", "memory_request"))
    assert container.cpu_usage_ratio == _default("container", "cpu_usage_ratio")
    assert container.memory_usage_ratio == _default("container", "memory_usage_ratio")
    assert workload.scrape is not None
    assert (workload.scrape.port, workload.scrape.path) == (_default("scrape", "port"), _default("scrape", "path"))
    assert bare.environment.monitoring_namespace == _default("environment", "monitoring_namespace")
    assert bare.scrape_interval_s == 30 and _default("scrape_interval") == "30s"
    assert bare.evaluation_interval_s == 30 and _default("evaluation_interval") == "30s"
    assert bare.setup("default").documented is _default("routingSetup", "documented")
    alert = bare.alerts[0]
    assert alert.notifies is _default("alert", "notifies")
    assert alert.scenarios[0].expect == _default("scenario", "expect")
    claim = profile.environment.volume_claims[0]
    assert (claim.used_ratio, claim.storage_class) == (
        _default("volumeClaim", "used_ratio"),
        _default("volumeClaim", "storage_class"),
    )
    assert profile.environment.jobs[0].image == _default("job", "image")
    http = profile.environment.workloads[0].http
    assert http is not None
    assert (http.error_ratio, http.latency_seconds, http.handler, http.method) == (
        _default("http", "error_ratio"),
        _default("http", "latency_seconds"),
        _default("http", "handler"),
        _default("http", "method"),
    )
    threshold = profile.alert("CrashLoop[warning]").threshold
    assert threshold is not None and threshold.margin == _default("threshold", "margin")


def test_profile_format_prints_the_page_and_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile-format"]) == 0
    assert capsys.readouterr().out == render_markdown()
    assert main(["profile-format", "--example"]) == 0
    assert capsys.readouterr().out == example_text()


def test_validate_says_valid_or_names_every_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLE)]) == 0
    assert "valid: 4 alerts, 1 routing set-up," in capsys.readouterr().out
    broken = tmp_path / "profile.yaml"
    broken.write_text(
        example_text().replace("severity: critical", "severity: urgent").replace("pack: pack", "pack: ..")
    )
    assert main(["validate", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {broken}: line ")
    assert (
        "(alerts[0].severity): breaks the profile schema: 'urgent' is not one of: critical, warning, info, none" in err
    )
