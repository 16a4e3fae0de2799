"""The fault vocabulary for profile authors is generated from the code: the page cannot drift from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.faultdoc import render_markdown
from conformance.model.scenario import FAULT_KINDS, Scenario, Target, param_value
from conformance.sim.faults import DELAYS
from conformance.sim.state import NODE_MONITOR_GRACE_S, PROGRESS_DEADLINE_S

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "faults.md"


def test_docs_faults_md_is_what_the_code_generates() -> None:
    assert PAGE.read_text(encoding="utf-8") == render_markdown(), (
        "docs/faults.md is out of date: python -m conformance faults --markdown > docs/faults.md"
    )


def test_every_fault_is_listed_with_its_level_parameters_and_delays(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["faults"]) == 0
    text = capsys.readouterr().out
    for name, kind in FAULT_KINDS.items():
        assert f"\n{name}  (target: " in f"\n{text}", name
        if kind.quantity:
            assert f"level: `{kind.quantity}` in {kind.unit}" in text, name
        for param in kind.params:
            assert f"param {param.name} ({param.unit}, " in text, (name, param.name)
    assert f"progress deadline, {PROGRESS_DEADLINE_S:g}s (delays the state)" in text
    assert f"node monitor grace, {NODE_MONITOR_GRACE_S:g}s (delays the state)" in text


def test_every_level_fault_has_a_unit_and_every_delay_a_fault() -> None:
    assert all(kind.unit for kind in FAULT_KINDS.values() if kind.quantity), "a level without a unit"
    assert set(DELAYS) <= set(FAULT_KINDS)


def test_the_simulated_cluster_reads_the_documented_defaults() -> None:
    scenario = Scenario("s", "latency", Target(namespace="n", workload="w"))
    assert param_value(scenario, "quantile") == 0.95
    assert param_value(Scenario("s", "latency", Target(), {"quantile": 0.99}), "quantile") == 0.99


_GET = re.compile(r"scenario\.params\.get\(\"(\w+)\"(?:,\s*([0-9.]+))?")
_INDEX = re.compile(r"scenario\.params\[['\"](\w+)['\"]\]")
_FAULT = re.compile(r'^\s+fault = "([\w-]+)"', re.MULTILINE)


@pytest.mark.parametrize("source", sorted((ROOT / "plugins").glob("*.py")), ids=lambda path: path.stem)
def test_the_kubernetes_injectors_read_only_documented_parameters_with_documented_defaults(source: Path) -> None:
    text = source.read_text(encoding="utf-8")
    faults = _FAULT.findall(text)
    for name, literal in _GET.findall(text):
        (fault,) = faults
        param = FAULT_KINDS[fault].param(name)
        if literal:
            documented = param.default if param.kube_default is None else param.kube_default
            assert isinstance(documented, int | float), f"{fault}.{name}: code {literal}, documented {documented}"
            assert float(literal) == float(documented), f"{fault}.{name}: code {literal}, documented {documented}"
        else:
            assert isinstance(param.default, str), f"{fault}.{name} has no default in code: document it in words"
    for name in _INDEX.findall(text):
        (fault,) = faults
        assert FAULT_KINDS[fault].param(name).default is None, f"{fault}.{name} is required in code"


def test_every_table_row_of_the_page_has_as_many_cells_as_its_header() -> None:
    """A value such as ``all | one`` must not split its cell (the page once showed the wrong defaults)."""
    header_cells = 0
    for line in render_markdown().splitlines():
        if not line.startswith("|"):
            header_cells = 0
            continue
        cells = len(re.findall(r"(?<!\\)\|", line))
        if header_cells == 0:
            header_cells = cells
        assert cells == header_cells, line


def test_the_profile_schema_accepts_exactly_the_fault_vocabulary() -> None:
    import json

    schema = json.loads((ROOT / "conformance" / "schema" / "profile.schema.json").read_text())
    enums = [
        node["enum"]
        for node in _walk(schema)
        if isinstance(node, dict) and isinstance(node.get("enum"), list) and "crash-loop" in node["enum"]
    ]
    assert enums and all(set(enum) == set(FAULT_KINDS) for enum in enums)


def _walk(node: object) -> list[object]:
    found = [node]
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        found.extend(_walk(child))
    return found
