"""Every example pack under tests/data/packs: good ones load as their .expect says, bad ones fail as said.

A new case is a new file (or folder) plus its ``.expect`` sibling.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import errors
from conformance.packs.loader import load_pack
from conformance.routing import route_alert

DATA = Path(__file__).resolve().parents[1] / "data" / "packs"


def _cases(kind: str) -> list[Any]:
    cases = []
    for expect in sorted((DATA / kind).rglob("*.expect")):
        stem = expect.with_suffix("")
        pack = next(
            (
                candidate
                for candidate in (stem, stem.with_suffix(".yaml"), stem.with_suffix(".yml"))
                if candidate.exists()
            ),
            None,
        )
        assert pack is not None, f"{expect} has no pack beside it"
        cases.append(pytest.param(pack, expect, id=str(pack.relative_to(DATA / kind))))
    return cases


def test_every_example_has_an_expectation() -> None:
    for kind in ("good", "bad"):
        for path in (DATA / kind).rglob("*"):
            if path.suffix in (".yaml", ".yml") and path.parent.parent == DATA / kind / "bad":
                continue  # files inside a bad folder pack
            if path.suffix in (".yaml", ".yml") and path.parent == DATA / kind:
                assert path.with_suffix(".expect").exists(), f"{path} has no .expect"
    assert len(_cases("good")) >= 8
    assert len(_cases("bad")) >= 10


@pytest.mark.parametrize(("pack_path", "expect_path"), _cases("good"))
def test_good_pack_loads(pack_path: Path, expect_path: Path) -> None:
    expect = yaml.safe_load(expect_path.read_text())
    pack = load_pack(pack_path)
    assert [f"{rule.alert}@{rule.severity}" for rule in pack.alerting_rules] == expect["alerts"]
    assert {group.name: group.interval_s for group in pack.groups} == expect["groups"]
    assert [f"{setup.form}:{setup.name}" for setup in pack.setups] == expect["setups"]
    for rule in pack.alerting_rules:
        assert rule.line is not None and rule.source.endswith((".yaml", ".yml"))
    if "receiver_names" in expect:
        assert len(pack.setups) == 1
        assert pack.setups[0].receiver_names == expect["receiver_names"]
    by_name = {setup.name: setup for setup in pack.setups}
    for case in expect.get("routes", []):
        got = [match.receiver for match in route_alert(by_name[case["setup"]].config, case["labels"])]
        assert got == case["receivers"], case


@pytest.mark.parametrize(("pack_path", "expect_path"), _cases("bad"))
def test_bad_pack_fails_with_a_precise_message(pack_path: Path, expect_path: Path) -> None:
    error_name, *fragments = [line for line in expect_path.read_text().splitlines() if line.strip()]
    error_type = getattr(errors, error_name)
    with pytest.raises(error_type) as caught:
        load_pack(pack_path)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert type(caught.value).__name__ == error_name
