"""``smp-compat merge``: join the matrix.json parts of a sharded run into one matrix.

Exit status: 0 when the merged matrix was written; 2 for parts that cannot be joined (of
different runs, a shard or cell twice, shards missing) or unreadable files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "join the matrix.json parts of `run --shard I/N` into one matrix.json (and reports)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The parts, the output file, and whether to render the reports beside it."""
    parser.add_argument("parts", nargs="+", type=Path, metavar="PART", help="a shard's matrix.json")
    parser.add_argument(
        "-o",
        "--out",
        type=Path,
        default=Path("reports/matrix.json"),
        metavar="FILE",
        help="the merged matrix.json (default: reports/matrix.json)",
    )
    parser.add_argument(
        "--no-reports",
        action="store_true",
        help="write only matrix.json and matrix.md, not index.html, junit.xml and badges/",
    )


def main(args: argparse.Namespace) -> int:
    """Read and validate every part, merge, validate the result, write it."""
    from compat.errors import UserError  # noqa: PLC0415
    from compat.report import matrix  # noqa: PLC0415
    from compat.report.bundle import load, write_reports  # noqa: PLC0415
    from compat.report.schema import validate  # noqa: PLC0415

    if args.out.suffix != ".json":
        raise UserError(f"-o {args.out}: expected a .json file name (e.g. reports/matrix.json)")
    parts = [(str(path), load(path)) for path in args.parts]
    document = matrix.merge(parts)  # MergeError: a UserError, one line
    validate(document, source=str(args.out))
    out_dir = args.out.parent
    named = args.out.name == "matrix.json"
    if args.out.is_dir():
        raise UserError(f"-o {args.out}: is a directory; expected a .json file name")
    write_reports(document, out_dir, reports=not args.no_reports, matrix=named)
    if not named:
        matrix.write(document, out_dir, args.out.name)
    json_path, md_path = args.out, out_dir / "matrix.md"
    summary = document["summary"]
    counts = ", ".join(f"{summary[k]} {k}" for k in ("pass", "fail", "error", "skipped", "n/a"))
    print(f"merged {len(parts)} parts, {len(document['cells'])} cells: {counts}")
    print(f"wrote {json_path} and {md_path}")
    return 0
