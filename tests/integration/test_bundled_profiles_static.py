"""Every bundled profile passes its static depths with its reference pack, run from outside the repository."""

from __future__ import annotations

import pytest

from conformance.profiles import bundled_profile_names

pytestmark = pytest.mark.needs_binaries("promtool", "amtool")


@pytest.mark.parametrize("profile", bundled_profile_names())
def test_reference_pack_passes_the_static_depths(pytester: pytest.Pytester, profile: str) -> None:
    # pytester runs in a temporary folder: the suite comes through the installed plugin (an editable install
    # here), not from the folder pytest was started in.
    result = pytester.runpytest_subprocess("--profile", profile, "-m", "static", "-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert outcomes.get("passed", 0) >= 4 * 3, outcomes
    assert "failed" not in outcomes and "error" not in outcomes, outcomes
