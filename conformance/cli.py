"""``python -m conformance`` / ``alert-conformance``: small commands around the profiles.

export-pack PROFILE DIR   write the profile's reference pack as files: a vendor's starting point
profiles                  list the bundled profiles
faults [--markdown]       every fault a scenario can name: target, level, parameters, built-in delays
profile-format [--example]  every key of a profile file (the page docs/profile.md), or only the example profile
validate PROFILE          load a profile and report every error of it at once, each with its line
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance.errors import ConformanceError
from conformance.profiles import bundled_profile_names, load_profile


def export_pack(profile_name: str, target: Path) -> list[Path]:
    """Copy the reference pack's files into ``target`` (created if needed; existing files are not overwritten)."""
    profile = load_profile(profile_name)
    source = profile.pack_path
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    written: list[Path] = []
    target.mkdir(parents=True, exist_ok=True)
    for file in files:
        relative = file.name if source.is_file() else file.relative_to(source)
        destination = target / relative
        if destination.exists():
            raise FileExistsError(f"{destination} already exists; export into an empty folder")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, destination)
        written.append(destination)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alert-conformance", description=__doc__.splitlines()[0] if __doc__ else "")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export-pack", help="write a profile's reference pack into a folder")
    export.add_argument("profile", help="bundled profile name or profile file")
    export.add_argument("directory", type=Path)
    commands.add_parser("profiles", help="list the bundled profiles")
    faults = commands.add_parser("faults", help="every fault: target, level, parameters, built-in delays")
    faults.add_argument("--markdown", action="store_true", help="as the page docs/faults.md")
    profile_format = commands.add_parser("profile-format", help="every key of a profile file, with an example")
    profile_format.add_argument("--example", action="store_true", help="only the example profile, as YAML")
    validate = commands.add_parser("validate", help="load a profile; report every error of it at once")
    validate.add_argument("profile", help="bundled profile name or profile file")
    args = parser.parse_args(argv)
    try:
        if args.command == "export-pack":
            for path in export_pack(args.profile, args.directory):
                print(path)
        elif args.command == "faults":
            from conformance.faultdoc import render_markdown, render_text

            print(render_markdown() if args.markdown else render_text(), end="")
        elif args.command == "profile-format":
            from conformance import profiledoc

            print(profiledoc.example_text() if args.example else profiledoc.render_markdown(), end="")
        elif args.command == "validate":
            profile = load_profile(args.profile)
            alerts, setups = len(profile.alerts), len(profile.routing)
            print(
                f"{profile.path}: valid: {alerts} alert{'s' * (alerts != 1)}, "
                f"{setups} routing set-up{'s' * (setups != 1)}, reference pack {profile.pack_path}"
            )
        else:
            for name in bundled_profile_names():
                print(name)
    except (ConformanceError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
