"""``smp-compat diff``: what changed between two matrices, as a sticky pull-request comment.

Exit status: 1 when a cell that passed in BASE fails (or has no verdict) in HEAD, else 0;
2 for bad input (a missing file, another schema version).
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "compare two matrix.json files: regressions, fixes, changes (exit 1 on a regression)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Base and head matrices, where the Markdown goes, and the comment's marker and budget."""
    parser.add_argument("base", type=Path, metavar="BASE", help="the baseline matrix.json")
    parser.add_argument("head", type=Path, metavar="HEAD", help="the new matrix.json")
    parser.add_argument(
        "--out", type=Path, metavar="FILE", help="write the Markdown here (default: stdout)"
    )
    parser.add_argument(
        "--missing-base-ok",
        action="store_true",
        help="a BASE that does not exist counts as an empty matrix (first run on a branch)",
    )
    parser.add_argument(
        "--marker",
        default="smp-compat",
        metavar="NAME",
        help="the <!-- NAME --> marker that finds the sticky comment (default: smp-compat)",
    )
    parser.add_argument("--link", default="", metavar="URL", help="where the full matrix is")
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=60_000,
        metavar="N",
        help="cut the Markdown to this size, saying how much was left out (default 60000)",
    )


def _write_whole(path: Path, text: str) -> None:
    """``text`` into ``path`` through a temporary file beside it and a rename (made with
    ``open``, not tempfile, whose files are 0600)."""
    import secrets  # noqa: PLC0415

    temporary = path.parent / f".{path.name}.{secrets.token_hex(4)}"
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def main(args: argparse.Namespace) -> int:
    """Compare, print or write the Markdown, exit 1 on a regression."""
    import sys  # noqa: PLC0415

    from compat.errors import UserError  # noqa: PLC0415
    from compat.report.bundle import load  # noqa: PLC0415
    from compat.report.diff import MARKER_PATTERN, compare, render  # noqa: PLC0415

    if args.max_bytes < 1000:
        raise UserError(f"--max-bytes {args.max_bytes}: expected 1000 or more")
    if not MARKER_PATTERN.fullmatch(args.marker):
        raise UserError(
            f"--marker {args.marker!r}: expected up to 64 letters, digits, '.', '_' or '-'"
        )
    if args.out is not None and not args.out.parent.is_dir():
        raise UserError(f"--out {args.out}: no directory {args.out.parent} to write it in")
    if args.out is not None and args.out.is_dir():
        raise UserError(f"--out {args.out}: is a directory; expected a file name")
    head = load(args.head)
    if args.missing_base_ok and not args.base.exists():
        base = {**head, "cells": []}
    else:
        base = load(args.base)
    diff = compare(base, head)
    text = render(diff, marker=args.marker, max_bytes=args.max_bytes, link=args.link)
    if args.out is not None:
        _write_whole(args.out, text)
    else:
        sys.stdout.write(text)
    return 1 if diff.regressions else 0
