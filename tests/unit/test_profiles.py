"""The profile loader against example profiles: good ones load as their ``.expect`` says, bad ones fail with
the error their ``.expect`` names, one clear message naming file and place.

A new case is a new file in ``tests/data/profiles/good`` or ``bad`` plus its ``.expect`` sibling.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import errors
from conformance.model.contract import AlertContract
from conformance.profiles import (
    bundled_profile_names,
    bundled_profiles_dir,
    find_profile,
    load_profile,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "profiles"


def _cases(kind: str) -> list[Any]:
    return [
        pytest.param(path, path.with_suffix(".expect"), id=path.stem) for path in sorted((DATA / kind).glob("*.yaml"))
    ]


def _expect(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def test_every_example_has_an_expectation() -> None:
    for kind in ("good", "bad"):
        for path in (DATA / kind).iterdir():
            partner = path.with_suffix(".expect" if path.suffix == ".yaml" else ".yaml")
            assert partner.exists(), f"{path} has no {partner.suffix} partner"
    assert len(_cases("good")) >= 3
    assert len(_cases("bad")) >= 25


def _check_alert(alert: AlertContract, want: dict[str, Any]) -> None:
    checks: dict[str, Any] = {
        "threshold": lambda: alert.threshold.describe() if alert.threshold else None,
        "integer": lambda: alert.threshold.integer if alert.threshold else None,
        "margin": lambda: alert.threshold.margin if alert.threshold else None,
        "for_s": lambda: alert.for_.seconds,
        "for_documented": lambda: alert.for_.documented,
        "window_s": lambda: alert.window.seconds if alert.window else None,
        "receivers": lambda: alert.receivers,
        "scenarios": lambda: [s.id for s in alert.scenarios],
        "expected_failure": lambda: alert.expected_failure,
        "live": lambda: alert.live,
        "live_skip_reason": lambda: alert.live_skip_reason,
        "expects": lambda: [s.expect for s in alert.scenarios],
        "levels": lambda: [s.level for s in alert.scenarios],
        "silent_for": lambda: [list(s.silent_for) for s in alert.scenarios],
        "notifies": lambda: alert.notifies,
        "threshold_quote": lambda: alert.threshold.quote if alert.threshold else None,
        "for_quote": lambda: alert.for_.quote,
        "window_quote": lambda: alert.window.quote if alert.window else None,
    }
    for key, value in want.items():
        assert checks[key]() == value, f"{alert.key}.{key}"


@pytest.mark.parametrize(("profile_path", "expect_path"), _cases("good"))
def test_good_profile_loads(profile_path: Path, expect_path: Path) -> None:
    expect = _expect(expect_path)
    profile = load_profile(str(profile_path))
    assert profile.path == profile_path
    assert profile.pack_path == (DATA / "pack").resolve()
    assert [alert.key for alert in profile.alerts] == list(expect["alerts"])
    for key, want in expect["alerts"].items():
        _check_alert(profile.alert(key), want)
    for name, (form, receiver, documented) in expect.get("setups", {}).items():
        setup = profile.setup(name)
        assert (setup.form, setup.receiver, setup.documented) == (form, receiver, documented)
    # Intervals are checked where the example sets them; the defaults are the engine's business.
    if "scrape_interval_s" in expect:
        assert profile.scrape_interval_s == expect["scrape_interval_s"]
    if "evaluation_interval_s" in expect:
        assert profile.evaluation_interval_s == expect["evaluation_interval_s"]


@pytest.mark.parametrize(("profile_path", "expect_path"), _cases("bad"))
def test_bad_profile_fails_with_one_clear_message(profile_path: Path, expect_path: Path) -> None:
    expect = _expect(expect_path)
    error_type: type[errors.InputError] = getattr(errors, expect["error"])
    with pytest.raises(error_type) as caught:
        load_profile(str(profile_path))
    message = str(caught.value)
    assert message.startswith(f"{profile_path}: "), message
    assert "\n" not in message, message
    for fragment in expect["contains"]:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_the_bundled_profiles_are_the_seed_vendors_and_kube_prometheus() -> None:
    assert bundled_profile_names() == ["aistore", "kube-prometheus", "mlops", "runai", "seldon"]


@pytest.mark.parametrize("name", ["aistore", "kube-prometheus", "mlops", "runai", "seldon"])
def test_a_bundled_profile_is_found_by_name_folder_and_file(name: str) -> None:
    folder = bundled_profiles_dir() / name
    assert find_profile(name) == folder / "profile.yaml"
    assert find_profile(str(folder)) == folder / "profile.yaml"
    assert find_profile(str(folder / "profile.yaml")) == folder / "profile.yaml"
    assert load_profile(name).name == name


def test_an_unknown_profile_names_the_bundled_ones() -> None:
    with pytest.raises(errors.UnknownProfileError) as caught:
        load_profile("nope")
    assert "unknown profile 'nope'" in str(caught.value)
    assert "runai" in str(caught.value)


def test_a_spread_whose_share_still_crosses_the_threshold_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted levels split into whole shares: 1 unavailable replica over two workloads leaves one with 1 > 0."""
    from dataclasses import replace

    from conformance.model import scenario as scenarios

    kinds = dict(scenarios.FAULT_KINDS)
    kinds["unavailable-replicas"] = replace(kinds["unavailable-replicas"], shareable=True)
    monkeypatch.setattr("conformance.profiles.FAULT_KINDS", kinds)
    monkeypatch.setattr(scenarios, "FAULT_KINDS", kinds)
    text = (DATA / "bad" / "spread-not-shareable.yaml").read_text(encoding="utf-8")
    text = text.replace(
        '{quantity: error_ratio, op: ">", value: 0.05, documented: true}',
        '{quantity: unavailable_replicas, op: ">", value: 0, documented: true}',
    )
    text = text.replace("fault: error-rate", "fault: unavailable-replicas").replace(
        "pack: ../pack", f"pack: {DATA / 'pack'}"
    )
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(errors.ProfileError) as caught:
        load_profile(str(path))
    assert "spread over 2 objects leaves each 1 of the firing level 1" in str(caught.value)


def test_every_error_of_a_profile_file_comes_at_once_each_with_its_place(tmp_path: Path) -> None:
    """Schema errors and the builder's own checks together, in file order: one round fixes the file."""
    text = (DATA / "good" / "minimal.yaml").read_text()
    text = text.replace("severity: critical", "severity: urgent")  # schema
    text = text.replace("containers: [{name: api}]", "containers: [{name: api, memory_limit: lots}]")  # quantity
    text = text.replace("pack: ../pack", f"pack: {DATA / 'pack'}")
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    with pytest.raises(errors.ProfileError) as caught:
        load_profile(str(path))
    error = caught.value
    assert [e.place for e in error.errors] == [
        "line 13 (environment.workloads[0].containers[0].memory_limit)",
        "line 22 (alerts[0].severity)",
    ], str(error)
    lines = str(error).splitlines()
    assert lines[0] == f"{path}: 2 errors"
    assert (
        lines[1] == "  line 13 (environment.workloads[0].containers[0].memory_limit): not a Kubernetes quantity: 'lots'"
    )
    assert "'urgent' is not one of" in lines[2]


def test_errors_in_several_alerts_are_all_reported(tmp_path: Path) -> None:
    text = (DATA / "bad" / "duplicate-alert.yaml").read_text().replace("pack: ../pack", f"pack: {DATA / 'pack'}")
    text = text.replace("target: {namespace: shop, workload: api}", "target: {namespace: shop, workload: nope}")
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    with pytest.raises(errors.ProfileError) as caught:
        load_profile(str(path))
    messages = [e.message for e in caught.value.errors]
    assert messages == ["no workload shop/nope is declared", "no workload shop/nope is declared"], messages


def test_the_nodes_node_faults_target_are_known_to_the_environment() -> None:
    """So the simulated scheduler keeps kube-state-metrics off them (conformance.model.workloads.Environment)."""
    profile = load_profile("runai")
    targeted = {s.target.node for a in profile.alerts for s in a.scenarios if s.kind.target == "node"}
    assert targeted and profile.environment.fault_nodes == targeted


def _broken_minimal(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    """``good/minimal.yaml`` with each ``(old, new)`` change made (each must apply), next to the example pack."""
    text = (DATA / "good" / "minimal.yaml").read_text().replace("pack: ../pack", f"pack: {DATA / 'pack'}")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return path


def test_a_broken_routing_setting_hides_no_other_error_and_its_setup_still_exists(tmp_path: Path) -> None:
    """A set-up's own error (a documented setting without its words) comes with the schema errors elsewhere, and an
    alert that names that set-up is not told it does not exist."""
    path = _broken_minimal(
        tmp_path,
        (
            "    source: {seed: none, section: test, quote: everything pages}\n",
            "    source: {seed: none, section: test, quote: everything pages}\n"
            "    settings:\n"
            "      group_interval: {value: 5m, documented: true}\n"
            "      group_wait: {value: 1s, documented: true}\n",
        ),
        ("severity: critical", "severity: urgent\n    receivers: {default: oncall}"),
        ("scrape: {job: api}", "scrape: {job: api, portt: 80}"),
    )
    with pytest.raises(errors.ProfileError) as caught:
        load_profile(str(path))
    messages = {e.place: e.message for e in caught.value.errors}
    assert list(messages) == [
        "line 14 (environment.workloads[0].scrape.portt)",
        "line 21 (routing[0].settings.group_interval)",
        "line 22 (routing[0].settings.group_wait)",
        "line 25 (alerts[0].severity)",
    ], str(caught.value)
    assert messages["line 14 (environment.workloads[0].scrape.portt)"] == (
        "breaks the profile schema: unknown key 'portt': did you mean 'port'? (allowed here: job, port, path, "
        "extra_metrics)"
    )
    assert "documented setting group_interval needs the document's words in `quote`" in str(caught.value)
    assert "no routing set-up named" not in str(caught.value)


def test_an_alert_naming_a_setup_that_does_not_exist_is_told_which_exist(tmp_path: Path) -> None:
    path = _broken_minimal(tmp_path, ("severity: critical", "severity: critical\n    receivers: {main: oncall}"))
    with pytest.raises(errors.ProfileError) as caught:
        load_profile(str(path))
    assert str(caught.value).endswith(
        "line 23 (alerts[0].receivers.main): no routing set-up named 'main' (set-ups: default)"
    )


def test_an_alert_naming_a_setup_the_schema_refused_gets_no_follow_on_error(tmp_path: Path) -> None:
    path = _broken_minimal(
        tmp_path,
        ("    form: file\n", "    form: files\n"),
        ("severity: critical", "severity: critical\n    receivers: {default: oncall}"),
    )
    with pytest.raises(errors.ProfileError) as caught:
        load_profile(str(path))
    assert str(caught.value).endswith(
        "line 17 (routing[0].form): breaks the profile schema: "
        "'files' is not one of: helm-values, operator, secret, file"
    )


def test_missing_keys_of_one_place_come_in_one_line(tmp_path: Path) -> None:
    path = _broken_minimal(
        tmp_path,
        ("title: One alert, one routing set-up\nseeds: [none]\n", ""),
        ("    meaning: the api stops answering scrapes\n", ""),
    )
    with pytest.raises(errors.ProfileError) as caught:
        load_profile(str(path))
    lines = str(caught.value).splitlines()[1:]
    assert lines == [
        "  line 1: breaks the profile schema: missing required keys 'title', 'seeds'",
        "  line 19 (alerts[0]): breaks the profile schema: missing required key 'meaning'",
    ], lines


def test_a_fault_other_than_none_without_a_target_says_why_the_target_is_needed(tmp_path: Path) -> None:
    path = _broken_minimal(tmp_path, ("        target: {namespace: shop, workload: api}\n", ""))
    with pytest.raises(errors.ProfileError) as caught:
        load_profile(str(path))
    assert str(caught.value).endswith(
        "(alerts[0].scenarios[0]): breaks the profile schema: missing required key 'target' "
        "(every fault but `none`, `ksm-list-errors` and `kubelets-down` needs a target)"
    )


def test_a_wrong_type_says_what_was_expected_and_what_was_found(tmp_path: Path) -> None:
    path = _broken_minimal(
        tmp_path, ("source: {seed: none, section: test, quote: unreachable for 2 minutes}", "source: the runbook")
    )
    with pytest.raises(errors.ProfileError) as caught:
        load_profile(str(path))
    assert str(caught.value).endswith(
        "line 24 (alerts[0].source): breaks the profile schema: expected a mapping with the keys seed, section, "
        "quote, got the string 'the runbook'"
    )


def test_kubelets_down_takes_no_target(tmp_path: Path) -> None:
    path = _broken_minimal(tmp_path, ("      - fault: target-down\n", "      - fault: kubelets-down\n"))
    with pytest.raises(errors.ProfileError, match="acts on the whole cluster and takes no target"):
        load_profile(str(path))
    path = _broken_minimal(
        tmp_path,
        (
            "      - fault: target-down\n        target: {namespace: shop, workload: api}\n",
            "      - fault: kubelets-down\n",
        ),
    )
    assert load_profile(str(path)).alerts[0].scenarios[0].kind.target == "cluster"


@pytest.mark.parametrize(
    ("nodes", "target", "problem"),
    [
        ("    - {name: worker-1}\n", "{component: kube-scheduler}", "declares none"),
        ("    - {name: cp, role: control-plane}\n", "{component: etcd}", "'etcd' is not one of: kube-apiserver"),
        ("    - {name: cp, role: control-plane}\n", "{component: kube-scheduler, node: cp}", "(only)"),
    ],
)
def test_control_plane_down_names_a_simulated_component(tmp_path: Path, nodes: str, target: str, problem: str) -> None:
    path = _broken_minimal(
        tmp_path,
        ("    - {name: worker-1}\n", nodes),
        (
            "      - fault: target-down\n        target: {namespace: shop, workload: api}\n",
            f"      - fault: control-plane-down\n        target: {target}\n",
        ),
    )
    with pytest.raises(errors.ProfileError, match=re.escape(problem)):
        load_profile(str(path))


def test_control_plane_down_refuses_a_component_a_stand_in_replaces(tmp_path: Path) -> None:
    path = _broken_minimal(
        tmp_path,
        ("    - {name: worker-1}\n", "    - {name: cp, role: control-plane}\n    - {name: worker-1}\n"),
        ("  namespaces: [shop]\n", "  namespaces: [shop, kube-system]\n"),
        (
            "      namespace: shop\n      containers: [{name: api}]\n      scrape: {job: api}\n",
            "      namespace: kube-system\n      containers: [{name: api}]\n      scrape: {job: kube-scheduler}\n",
        ),
        (
            "      - fault: target-down\n        target: {namespace: shop, workload: api}\n",
            "      - fault: control-plane-down\n        target: {component: kube-scheduler}\n",
        ),
    )
    with pytest.raises(errors.ProfileError, match="stood in for by kube-system/api"):
        load_profile(str(path))
