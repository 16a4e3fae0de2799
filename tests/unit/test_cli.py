"""``python -m conformance``: exporting a reference pack as a vendor's starting point, listing profiles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.packs.loader import load_pack
from conformance.profiles import load_profile


def test_export_pack_writes_a_pack_that_loads_like_the_reference(tmp_path: Path) -> None:
    target = tmp_path / "my-pack"
    assert main(["export-pack", "runai", str(target)]) == 0
    exported = load_pack(target)
    reference = load_pack(load_profile("runai").pack_path)
    assert [r.alert for r in exported.alerting_rules] == [r.alert for r in reference.alerting_rules]
    assert [s.form for s in exported.setups] == [s.form for s in reference.setups]


def test_export_pack_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-pack", "aistore", str(tmp_path)]) == 0
    assert main(["export-pack", "aistore", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_unknown_profile_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "conformance", "export-pack", "nope", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: unknown profile 'nope'")
    assert "Traceback" not in result.stderr


def test_profiles_lists_the_bundled_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles"]) == 0
    assert capsys.readouterr().out.split() == ["aistore", "kube-prometheus", "mlops", "runai", "seldon"]
