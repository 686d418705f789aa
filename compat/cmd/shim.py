"""``smp-compat shim DIR``: a fake (or recording) session-manager-plugin in a sandbox bin dir."""

from __future__ import annotations

import argparse
from pathlib import Path

from fake_plugin.versions import DEFAULT_RELEASE, RELEASE_ENV

HELP = "write DIR/session-manager-plugin: the fake plugin, or a recording wrapper of a real one"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``DIR [--release R] [--record FILE] [--real PATH]``."""
    parser.add_argument("directory", metavar="DIR", type=Path, help="sandbox bin directory")
    parser.add_argument(
        "--release",
        metavar="R",
        help=f"plugin release to emulate (default: ${RELEASE_ENV} or {DEFAULT_RELEASE})",
    )
    parser.add_argument(
        "--record", metavar="FILE", type=Path, help="append one JSON line per start to FILE"
    )
    parser.add_argument(
        "--real",
        metavar="PATH",
        type=Path,
        help="wrap this real session-manager-plugin binary instead, recording its starts",
    )


def main(args: argparse.Namespace) -> int:
    """Write the shim and print its path."""
    from compat.launcher.shim import write_shim  # noqa: PLC0415 - keep `smp-compat --help` fast

    path = write_shim(args.directory, release=args.release, record=args.record, real=args.real)
    print(path)
    return 0
