"""Writing a loaded pack back as files Prometheus and Alertmanager read, and what the loader records."""

from __future__ import annotations

from pathlib import Path

import yaml

from conformance.packs.loader import load_pack, write_alertmanager_config, write_rule_files

GOOD = Path(__file__).resolve().parents[1] / "data" / "packs" / "good"


def test_rule_files_round_trip_with_groups_and_intervals(tmp_path: Path) -> None:
    pack = load_pack(GOOD)
    written = write_rule_files(pack, tmp_path / "rules")
    assert written and all(path.parent == tmp_path / "rules" for path in written)
    again = load_pack(tmp_path / "rules")
    strip = [
        (
            g.name,
            g.interval_s,
            [(r.alert, r.record, r.expr, r.for_s, r.keep_firing_for_s, r.labels, r.annotations) for r in g.rules],
        )
        for g in pack.groups
    ]
    assert [
        (
            g.name,
            g.interval_s,
            [(r.alert, r.record, r.expr, r.for_s, r.keep_firing_for_s, r.labels, r.annotations) for r in g.rules],
        )
        for g in again.groups
    ] == strip


def test_repeated_group_names_go_to_separate_files(tmp_path: Path) -> None:
    doc = (
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {{name: {n}}}\nspec:\n"
        "  groups:\n  - name: same\n    rules:\n    - alert: A{n}\n      expr: up == 0\n"
    )
    (tmp_path / "pack.yaml").write_text(doc.format(n=1) + "---\n" + doc.format(n=2))
    written = write_rule_files(load_pack(tmp_path / "pack.yaml"), tmp_path / "out")
    assert len(written) == 2
    for path in written:
        names = [g["name"] for g in yaml.safe_load(path.read_text())["groups"]]
        assert names == ["same"]


def test_alertmanager_config_round_trip(tmp_path: Path) -> None:
    pack = load_pack(GOOD / "operator" / "runai-email")
    setup = pack.setup("operator")
    assert setup is not None
    path = write_alertmanager_config(setup, tmp_path / "am" / "alertmanager.yml")
    assert yaml.safe_load(path.read_text()) == setup.config


def test_other_kinds_are_ignored_with_a_note() -> None:
    pack = load_pack(GOOD / "prometheus-rule" / "aistore.yaml")
    assert any("ServiceMonitor ais-monitor ignored" in note for note in pack.notes)
    assert pack.rule_sources == (f"{GOOD / 'prometheus-rule' / 'aistore.yaml'} document 2 (PrometheusRule ais-alerts)",)


def test_secret_and_helm_values_setups() -> None:
    pack = load_pack(GOOD / "secret" / "seldon")
    setup = pack.setup("secret")
    assert setup is not None and setup.config["route"]["receiver"] == "default-receiver"
    assert any("deep-merges" in note for s in load_pack(GOOD / "helm-values").setups for note in s.notes)
