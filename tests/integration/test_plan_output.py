"""``--plan`` from the command line: the kind plan shows its waves, the node mapping and a duration estimate, and
keeps node-loss faults apart; the existing-cluster plan still prints. Nothing is touched, no cluster is needed."""

from __future__ import annotations

import re

import pytest

pytestmark = [
    # the duration estimate comes from depth 3's predictions, which promtool computes
    pytest.mark.needs_binaries("promtool"),
]

# A wave whose runs have no estimate (the high-availability repeats) says why after a semicolon.
WAVE = re.compile(r"  wave (\d+): about (\S+) = healthy \S+ \+ slowest notification \S+ \+ resolution wait \S+(; .*)?")
NODE_STEP = re.compile(r"    (\S+): node (\S+) \(declared (\S+?)(, node loss)?\)")
MAPPING = re.compile(r"  (.+) -> (\S+) \((control-plane|workloads|monitoring|node-faults)\): .+")


def section(lines: list[str], title: str) -> list[str]:
    """The indented lines under the line starting with ``title``."""
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        body.append(line)
    return body


def test_kind_plan_shows_waves_node_mapping_and_duration(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--profile", "runai", "--backend", "kind", "--plan", "-p", "no:cacheprovider"
    )
    assert result.ret == 0, result.stderr.str()
    lines = result.stdout.lines

    mapping = [MAPPING.fullmatch(line) for line in section(lines, "Node mapping (declared node -> kind node):")]
    assert mapping and all(mapping), section(lines, "Node mapping")
    parts = {m[2]: m[3] for m in mapping if m}
    [monitoring] = [node for node, part in parts.items() if part == "monitoring"]
    played = {d.strip(): m[2] for m in mapping if m and not m[1].startswith("(") for d in m[1].split(",")}
    assert played["gpu-node-1"] == "alert-conformance-worker3" and monitoring not in played.values()

    waves = section(lines, "Waves (")
    numbers = [int(m[1]) for m in map(WAVE.fullmatch, waves) if m]
    assert numbers == list(range(1, len(numbers) + 1)) and numbers
    node_loss_by_wave: dict[int, list[str]] = {}
    wave = 0
    for line in waves:
        if (header := WAVE.fullmatch(line)) is not None:
            wave = int(header[1])
        elif (step := NODE_STEP.fullmatch(line)) is not None:
            _run_id, node, declared, loss = step.groups()
            assert played[declared] == node, line  # the wave names the node the mapping gives
            if loss:
                node_loss_by_wave.setdefault(wave, []).append(node)
    assert node_loss_by_wave, "the runai plan stops a kubelet (RunaiNodeUnknownState:ready-unknown)"
    for wave_number, nodes in node_loss_by_wave.items():
        assert len(nodes) == len(set(nodes)), f"wave {wave_number}: two node-loss faults on one worker: {nodes}"
        assert monitoring not in nodes

    [total] = [line for line in lines if line.startswith("Estimated duration: about ")]
    assert re.match(r"Estimated duration: about (\d+h)?(\d+m)?(\d+s)? for \d+ wave\(s\)", total), total
    # Ready=False is not something a stopped kubelet gives: skipped with the reason, not silently run as Unknown
    assert any("SKIP: ready_status: false asks for Ready=False" in line for line in lines)


def test_cluster_plan_still_prints_with_its_waves(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--profile", "runai", "--backend", "cluster", "--plan", "-p", "no:cacheprovider"
    )
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(
        [
            "alert-conformance plan, backend cluster (nothing has been touched)",
            "Node mapping (declared node -> cluster node):",
            "  gpu-node-1 -> <worker node #3>",
            "Waves (*",
            "  wave 1: about *",
            "Estimated duration: about *",
            "REFUSED: the run would stop before touching anything*",
        ]
    )


def test_twin_plan_shows_each_fault_beside_its_revert(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--profile", "runai", "--plan", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stderr.str()
    lines = result.stdout.lines
    fault = lines.index("  RunaiNodeUnknownState[critical]:ready-unknown: node-not-ready on node gpu-node-1")
    assert lines[fault + 1].startswith("      revert: the simulated state set back to healthy")
    restarts = next(i for i, line in enumerate(lines) if ":crash-loop: crash-loop on " in line)
    assert "what they left (restarts, recreated pods) stays" in lines[restarts + 1]
