"""The package list in pyproject.toml covers every package folder, so an installed copy is complete."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAPPED = {"plugins": "conformance_plugins", "fixtures": "conformance_fixtures", "profiles": "conformance_profiles"}


def _declared() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(data["tool"]["setuptools"]["packages"])


def test_every_conformance_subpackage_is_declared() -> None:
    folders = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "conformance").rglob("*.py")
        if "__pycache__" not in path.parts and "data" not in path.parts  # data/: files the kube backend deploys
    }
    assert folders <= _declared()


def test_data_the_kube_backend_deploys_is_package_data() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = data["tool"]["setuptools"]["package-data"]["conformance"]
    deployed = {
        path.relative_to(ROOT / "conformance") for path in (ROOT / "conformance" / "kube" / "data").rglob("*.*")
    }
    assert deployed
    assert all(any(path.match(pattern) for pattern in patterns) for path in deployed)


def test_top_level_folders_install_under_their_package_names() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["tool"]["setuptools"]["package-dir"] == {name: folder for folder, name in MAPPED.items()}
    assert set(MAPPED.values()) <= _declared()


def test_the_schema_and_the_example_profile_are_package_data() -> None:
    """``python -m conformance profile-format`` prints the example from an installed copy too."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = data["tool"]["setuptools"]["package-data"]["conformance"]
    shipped = {path.relative_to(ROOT / "conformance") for path in (ROOT / "conformance" / "schema").rglob("*.*")}
    assert any(path.name == "profile.yaml" for path in shipped)
    assert all(any(path.match(pattern) for pattern in patterns) for path in shipped), shipped


def test_every_test_module_has_its_own_name() -> None:
    # tests/ has no packages: pytest imports each test module by its file name, and two files of one name in
    # different folders make the second fail to import ("import file mismatch") under `make test`.
    tests = Path(__file__).resolve().parents[1]
    names = Counter(path.name for path in tests.rglob("test_*.py") if "data" not in path.relative_to(tests).parts)
    assert [name for name, count in names.items() if count > 1] == []
