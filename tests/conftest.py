"""Shared test configuration: pytester, the one skip rule for missing binaries, a private temp folder per test.

``@pytest.mark.needs_binaries("promtool", "amtool")`` says which tools a test runs; the bare marker means all
four of the static depths and the live twin. A test whose tool cannot be found (resolved exactly as the suite
resolves it: option, environment variable, ``PATH``, cache folder; see :func:`conformance.tools.find_tool`) is
skipped with the suite's own one-line reason, which says how to install it. Such tests live under
``tests/integration/`` (or ``tests/kube/real/`` for a real cluster), so every other folder runs without them.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from conformance.errors import ToolNotFoundError
from conformance.tools import TOOLS, find_tool

pytest_plugins = ["pytester"]

TESTS = Path(__file__).parent
#: a bare ``needs_binaries`` marker: the static depths' tools and the live twin's servers
STATIC_AND_TWIN_TOOLS = ("promtool", "amtool", "prometheus", "alertmanager")
#: where tests needing binaries live; everywhere else must pass on a machine without them
BINARY_FOLDERS = (TESTS / "integration", TESTS / "kube" / "real")
MINI = TESTS / "data" / "mini"


#: why an item may not run as written (a misplaced or mistyped marker), reported as its failure
MISUSE = pytest.StashKey[str]()


def needed_tools(item: pytest.Item) -> list[str]:
    """The tools ``item``'s ``needs_binaries`` markers name (module, class and function markers together)."""
    tools: list[str] = []
    for marker in item.iter_markers("needs_binaries"):
        for tool in marker.args or STATIC_AND_TWIN_TOOLS:
            if tool not in tools:
                tools.append(tool)
    return tools


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing: dict[str, str | None] = {}  # tool -> why it cannot be found; looked up once per run

    def why_missing(tool: str) -> str | None:
        if tool not in missing:
            try:
                find_tool(tool)
                missing[tool] = None
            except ToolNotFoundError as error:
                missing[tool] = str(error)
        return missing[tool]

    for item in items:
        tools = needed_tools(item)
        if not tools:
            continue
        # Reported as the item's failure rather than a usage error, which pytest-xdist turns into a crash.
        unknown = [tool for tool in tools if tool not in TOOLS]
        if unknown:
            item.stash[MISUSE] = f"needs_binaries names {', '.join(unknown)}, not one of {', '.join(TOOLS)}"
            continue
        if not any(item.path.is_relative_to(folder) for folder in BINARY_FOLDERS):
            item.stash[MISUSE] = (
                f"needs {', '.join(tools)}: move it under tests/integration/, where tests that need binaries live "
                "(everything else must run without them)"
            )
            continue
        absent = [tool for tool in tools if why_missing(tool)]
        if absent:
            # The suite's own line for the first (it says how to install); the others by name.
            also = f" (also missing: {', '.join(absent[1:])})" if absent[1:] else ""
            item.add_marker(pytest.mark.skip(reason=f"{why_missing(absent[0])}{also}"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if MISUSE in item.stash:
        pytest.fail(item.stash[MISUSE], pytrace=False)


@pytest.fixture(autouse=True)
def private_temp_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own temp folder, for ``tempfile`` in this process and ``TMPDIR`` in its children.

    The twin's and the session's work folders come from ``tempfile.mkdtemp``; with a folder per test, a test
    that checks what a run left behind sees its own run only, never a neighbouring xdist worker's. A sibling of
    ``tmp_path`` (not inside it), so tests that list ``tmp_path`` are not disturbed.
    """
    path = tmp_path_factory.mktemp("tempdir")
    monkeypatch.setenv("TMPDIR", str(path))
    # tempfile caches the folder it found first; set the cache, not only the variable it was read from.
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


@pytest.fixture
def mini(pytester: pytest.Pytester) -> Path:
    """A fresh, editable copy of the one-alert profile in pytester's temporary folder (outside the repository)."""
    target = pytester.path / "mini"
    shutil.copytree(MINI, target)
    return target
