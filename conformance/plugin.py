"""The pytest entry point (``pytest11``): options, the report header, and where ``--profile`` points collection.

Only hooks and option handling live here; the engine does the work. With ``--profile`` and no test paths on
the command line, pytest collects the conformance suite shipped in :mod:`conformance.suite`, so
``pytest --profile runai`` behaves the same from a checkout and after ``pip install``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.errors import ConformanceError
from conformance.model.durations import format_duration, parse_duration
from conformance.options import DEFAULT_BUDGET_MEMORY_BYTES, DEFAULT_BUDGET_TIME_S, DEFAULT_TIME_SCALE, Options
from conformance.quantities import parse_quantity
from conformance.tools import TOOLS

SUITE_DIR = Path(__file__).parent / "suite"
OPTIONS_KEY = pytest.StashKey[Options]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from conformance import hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("alert-conformance", "prove an alert pack against its vendor's documented contract")
    group.addoption(
        "--profile", help="bundled profile name (runai, aistore, mlops, seldon, kube-prometheus) or a profile file"
    )
    group.addoption("--alert-pack", help="a pack file or folder to prove instead of the profile's reference pack")
    group.addoption("--backend", default="twin", help="where live scenarios run: twin (default), kind or cluster")
    group.addoption(
        "--time-scale",
        default=str(DEFAULT_TIME_SCALE),
        help=f"live twin: shrink every duration by this factor (default {DEFAULT_TIME_SCALE:g}; 1 = real time)",
    )
    group.addoption("--conformance-report", metavar="DIR", help="write report.json and report.html into DIR")
    group.addoption("--plan", action="store_true", help="print every change a run would make, and make none")
    group.addoption("--kubeconfig", help="kubeconfig for --backend cluster")
    group.addoption("--context", help="kubeconfig context for --backend cluster")
    group.addoption("--cluster-name", default="alert-conformance", help="kind cluster to create or reuse")
    group.addoption(
        "--keep-cluster", default="on-failure", help="keep the kind cluster afterwards: never, on-failure, always"
    )
    group.addoption(
        "--allow-disruption", action="store_true", help="allow disruptive faults on a real cluster (pods, nodes)"
    )
    group.addoption("--allow-namespace", action="append", default=[], help="a namespace faults may touch (repeatable)")
    group.addoption("--allow-nodes", action="store_true", help="allow faults on nodes (cordon, NotReady)")
    group.addoption("--prometheus-url", help="--backend cluster: the cluster's Prometheus (found if omitted)")
    group.addoption("--alertmanager-url", help="--backend cluster: the cluster's Alertmanager (found if omitted)")
    group.addoption(
        "--budget-memory",
        default=f"{DEFAULT_BUDGET_MEMORY_BYTES // 2**20}Mi",
        help="depth 3, and the live twin's backfilled warm-up, may use this much memory, every process together "
        "(a quantity: 4Gi, 1500Mi; default %(default)s)",
    )
    group.addoption(
        "--budget-time",
        default=format_duration(DEFAULT_BUDGET_TIME_S),
        help="depth 3 may take this long (a duration: 90s, 20m; default %(default)s)",
    )
    for tool, info in TOOLS.items():
        group.addoption(f"--{tool}", dest=f"tool_{tool}", help=f"path to {tool} (else ${info.env_var}, then PATH)")


def _options(config: pytest.Config) -> Options:
    """Validate and type the command line; bad values are a one-line ``UsageError``."""
    get = config.getoption
    backend = get("backend")
    if backend not in ("twin", "kind", "cluster"):
        raise pytest.UsageError(f"--backend must be twin, kind or cluster, not {backend!r}")
    keep = get("keep_cluster")
    if keep not in ("never", "on-failure", "always"):
        raise pytest.UsageError(f"--keep-cluster must be never, on-failure or always, not {keep!r}")
    try:
        scale = float(get("time_scale"))
    except ValueError:
        raise pytest.UsageError(f"--time-scale must be a number, not {get('time_scale')!r}") from None
    if not 1 <= scale <= 600:
        raise pytest.UsageError(f"--time-scale must be between 1 (real time) and 600, not {scale:g}")
    pack = get("alert_pack")
    if pack is not None and not Path(pack).exists():
        raise pytest.UsageError(f"--alert-pack {pack}: no such file or folder")
    memory, seconds = _budget(get("budget_memory"), get("budget_time"))
    report = get("conformance_report")
    kubeconfig = get("kubeconfig")
    if kubeconfig is not None and not Path(kubeconfig).is_file():
        raise pytest.UsageError(f"--kubeconfig {kubeconfig}: no such file")
    return Options(
        profile=get("profile"),
        alert_pack=Path(pack).resolve() if pack else None,
        backend=backend,
        time_scale=scale,
        report_dir=Path(report).resolve() if report else None,
        plan=bool(get("plan")),
        kubeconfig=Path(kubeconfig).resolve() if kubeconfig else None,
        context=get("context"),
        cluster_name=get("cluster_name"),
        keep_cluster=keep,
        allow_disruption=bool(get("allow_disruption")),
        allow_namespaces=tuple(get("allow_namespace")),
        allow_nodes=bool(get("allow_nodes")),
        prometheus_url=get("prometheus_url"),
        alertmanager_url=get("alertmanager_url"),
        tools={tool: get(f"tool_{tool}") for tool in TOOLS if get(f"tool_{tool}")},
        budget_memory_bytes=memory,
        budget_time_s=seconds,
    )


def _budget(memory: str, time: str) -> tuple[int, float]:
    """The budget options as bytes and seconds; a bad value is a one-line ``UsageError``."""
    try:
        memory_bytes = int(parse_quantity(memory))
    except ValueError:
        raise pytest.UsageError(f"--budget-memory must be a quantity such as 2Gi or 1500Mi, not {memory!r}") from None
    try:
        seconds = parse_duration(time)
    except ValueError:
        raise pytest.UsageError(f"--budget-time must be a duration such as 90s or 20m, not {time!r}") from None
    if memory_bytes <= 0 or seconds <= 0:
        raise pytest.UsageError("--budget-memory and --budget-time must be positive")
    return memory_bytes, seconds


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Registered here, not in an ini file, so `-m static` works wherever the suite runs from.
    config.addinivalue_line("markers", "static: depths 1 to 4 (contract, syntax, behaviour in virtual time, routing)")
    config.addinivalue_line("markers", "live: depths 5 and 6 (live twin, kind or an existing cluster)")
    if not config.getoption("profile"):
        return
    options = _options(config)
    config.stash[OPTIONS_KEY] = options
    from conformance.session import ConformanceSession

    try:
        session = ConformanceSession.open(options)
    except ConformanceError as error:
        raise pytest.UsageError(str(error)) from None
    _register_faults(config, session)
    try:
        if not options.plan:
            session.require_tools(_tools_needed(config, options))
            if options.backend == "cluster" and _live_selected(config):
                _check_cluster_safety(session)
    except ConformanceError as error:
        session.close()  # nothing may be left behind, not even the work folder
        raise pytest.UsageError(str(error)) from None
    config.stash[SESSION_KEY] = session
    if options.plan:
        return
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        # No paths given: run the suite shipped in the package, wherever pytest was started.
        config.args[:] = [str(SUITE_DIR)]
    else:
        config.args[:] = _suite_args(list(config.args), session.profile.name)


def suite_node_id(profile: str, module: Path) -> str:
    """The node id of a suite module: ``runai:static`` for ``test_static.py``.

    The suite ships inside the package, so its path relative to wherever pytest started is meaningless (or, from
    another folder, a path that does not exist there); its items are named by profile and depth instead, and
    :func:`_suite_args` maps such ids back to the files when a person reruns one.
    """
    return f"{profile}:{module.stem.removeprefix('test_')}"


def _suite_args(args: list[str], profile: str) -> list[str]:
    """``runai:static::test_contract[runai:X]`` on the command line: the suite file it names, same selection."""
    out = []
    for arg in args:
        head, sep, rest = arg.partition("::")
        module = SUITE_DIR / f"test_{head.removeprefix(profile + ':')}.py" if head.startswith(profile + ":") else None
        out.append(f"{module}{sep}{rest}" if module is not None and module.is_file() else arg)
    return out


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """Give the shipped suite's modules node ids naming the profile (see :func:`suite_node_id`)."""
    config = parent.config
    if module_path.parent != SUITE_DIR or SESSION_KEY not in config.stash:
        return None
    profile = config.stash[SESSION_KEY].profile.name
    module: pytest.Module = pytest.Module.from_parent(
        parent, path=module_path, nodeid=suite_node_id(profile, module_path)
    )
    return module


def _register_faults(config: pytest.Config, session: Any) -> None:
    """Built-in fault injectors, entry-point extensions, then a vendor's ``conftest.py`` additions."""
    from conformance_plugins.registry import default_registry

    registry = default_registry()
    config.hook.pytest_conformance_register_faults(registry=registry)
    session.fault_registry = registry


def _only_live(name: str, /, **kwargs: str | int | bool | None) -> bool:
    """A marker matcher for an item marked ``live`` and nothing else."""
    return name == "live"


def _live_selected(config: pytest.Config) -> bool:
    """Whether the marker expression keeps the live items."""
    markexpr = str(config.getoption("markexpr", "") or "")
    if not markexpr:
        return True
    from _pytest.mark.expression import Expression

    try:
        return bool(Expression.compile(markexpr).evaluate(_only_live))
    except SyntaxError:
        return True  # pytest reports the bad expression itself


def _check_cluster_safety(session: Any) -> None:
    """On an existing cluster, refuse before anything runs (and before any API call) when a fault is not
    allowed: one line listing the refusals, instead of one failure per alert later."""
    from conformance.kube.planning import plan_run
    from conformance.kube.safety import check_safety

    plan = plan_run(session.options, session.profile, session.pack, session.fault_registry)
    check_safety(session.options, plan.placement, plan.faults)


def _tools_needed(config: pytest.Config, options: Options) -> list[str]:
    """The static depths need promtool and amtool; the live twin also Prometheus and Alertmanager."""
    needed = ["promtool", "amtool"]
    # Would an item marked only `live` be selected? If not, the live tools are not needed.
    static_only = not _live_selected(config)
    if options.backend == "twin" and not static_only:
        needed += ["prometheus", "alertmanager"]
    if options.backend == "kind" and not static_only:
        needed += ["kind", "helm", "docker"]
    return needed


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """``--plan`` prints the plan and ends the run before any collection or change."""
    if not (config.getoption("profile") and config.getoption("plan")):
        return None
    config._do_configure()
    from conformance.plan import print_plan

    session = config.stash[SESSION_KEY]
    try:
        print_plan(session, write=print)
    except ConformanceError as error:
        raise pytest.UsageError(str(error)) from None
    finally:
        config._ensure_unconfigure()
    return 0


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    if SESSION_KEY not in config.stash:
        return None
    lines: list[str] = config.stash[SESSION_KEY].header_lines()
    return lines


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        session.close()


#: At most this many alerts are listed in the terminal; report.json has them all.
SUMMARY_ALERTS = 12


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Coverage in every run: the pack's alerts that read series the simulated world never has. A hook of the
    plugin, not of the suite's conftest, so it also runs in a pytest-xdist controller, which collects nothing."""
    if SESSION_KEY not in config.stash:
        return
    conformance = config.stash[SESSION_KEY]
    if conformance.options.plan:
        return
    _quiet_receivers(terminalreporter, conformance)
    coverage = conformance.coverage()
    total = len({rule.alert for rule in conformance.pack.alerting_rules})
    write = terminalreporter.write_line
    terminalreporter.section("alert-conformance coverage", sep="-")
    if not coverage:
        alerts = f"{total} alert{'s' if total != 1 else ''}"
        write(f"every selector of the pack's {alerts} matches series of the simulated cluster")
        return
    write(f"{len(coverage)} of the pack's {total} alerts read series the simulated cluster never has:")
    documented = {alert.name for alert in conformance.profile.alerts}
    ordered = sorted(coverage.items(), key=lambda item: item[0] not in documented)  # documented alerts first
    for alert, found in ordered[:SUMMARY_ALERTS]:
        mark = " (documented)" if alert in documented else ""
        write(f"  {alert}{mark}: {', '.join(absent.selector for absent in found)}")
    if len(coverage) > SUMMARY_ALERTS:
        write(summary_rest(len(coverage) - SUMMARY_ALERTS, "coverage", conformance.options.report_dir))


def summary_rest(count: int, key: str, report_dir: Path | None) -> str:
    """The line ending a list the terminal cuts at :data:`SUMMARY_ALERTS`: how many more, and where all are."""
    if report_dir is None:
        where = f"--conformance-report DIR writes every one to DIR/report.json (key {key}) and DIR/report.html"
    else:
        where = f"every one in {report_dir / 'report.json'} (key {key}) and {report_dir / 'report.html'}"
    return f"  ... and {count} more: {where}"


def _quiet_receivers(terminalreporter: Any, conformance: Any) -> None:
    """Depth 4's notes: documented alerts whose receiver has no integration in the pack, so nobody is notified,
    and the inhibit rules that can mute them."""
    notes = conformance.routing_notes()
    if notes:
        terminalreporter.section("alert-conformance: routing notes", sep="-")
        for note in notes[:SUMMARY_ALERTS]:
            terminalreporter.write_line(f"  {note.describe()}")
        if len(notes) > SUMMARY_ALERTS:
            rest = summary_rest(len(notes) - SUMMARY_ALERTS, "routing_notes", conformance.options.report_dir)
            terminalreporter.write_line(rest)


# Defined after the imports it needs, typed loosely to keep the engine import lazy.
SESSION_KEY: pytest.StashKey[Any] = pytest.StashKey[Any]()
