"""Every bundled profile, and the example profile of docs/profile.md, passes its static depths with its reference
pack, run from outside the repository."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from conformance.profiledoc import EXAMPLE
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


def test_the_example_profile_of_the_format_page_passes_the_static_depths(pytester: pytest.Pytester) -> None:
    """docs/profile.md shows this profile as the one to start from: it must stay one that works."""
    example = Path(str(resources.files("conformance").joinpath(EXAMPLE)))
    result = pytester.runpytest_subprocess("--profile", str(example), "-m", "static", "-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert outcomes.get("passed", 0) >= 4 * 4, outcomes
    assert "failed" not in outcomes and "error" not in outcomes, outcomes
