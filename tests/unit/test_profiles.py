"""The profile loader against example profiles: good ones load as their ``.expect`` says, bad ones fail with
the error their ``.expect`` names, one clear message naming file and place.

A new case is a new file in ``tests/data/profiles/good`` or ``bad`` plus its ``.expect`` sibling.
"""

from __future__ import annotations

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
        "notifies": lambda: alert.notifies,
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
