"""``smp-compat report``: render a matrix.json as index.html, matrix.md, junit.xml and badges."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "render matrix.json as index.html, matrix.md, junit.xml and per-tool badges"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The matrix to read, where to write, and whether to touch the step summary."""
    parser.add_argument("matrix", type=Path, metavar="MATRIX", help="a matrix.json")
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output directory (default: the matrix's own, so evidence links resolve)",
    )
    parser.add_argument(
        "--no-summary",
        action="store_true",
        help="do not append matrix.md to $GITHUB_STEP_SUMMARY even when it is set",
    )


def main(args: argparse.Namespace) -> int:
    """Read and validate, then write every report; 0 unless the input is bad (exit 2)."""
    from compat.report.bundle import load, write_reports  # noqa: PLC0415

    document = load(args.matrix)
    out = args.out if args.out is not None else args.matrix.parent
    written = write_reports(document, out, step_summary=not args.no_summary)
    for kind, path in written.files.items():
        print(f"wrote {path} ({kind})")
    for badge in written.badges:
        print(f"badge {badge.tool}: {badge.message} ({', '.join(badge.rows)})")
    if written.summary is not None:
        print(f"appended the summary to {written.summary}")
    return 0
