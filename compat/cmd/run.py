"""``smp-compat run``: every tool x scenario x plugin release, written to matrix.json/.md.

Exit status: 0 when the run produced its matrix, whatever the built-in tools' cells say (their
failures are the findings, not errors of the run, and a built-in tool that is not installed
here is skipped, not a failure); 1 when a cell of an adapter passed with ``--adapters`` (the
user's own tool) is ``fail`` or ``error``, or when none of its cells was tested (every one
``skipped`` or ``n/a``: a CI job for "my tool" must not go green having tested nothing; a
``--shard`` leaves that to the whole run); 2 for bad input.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compat.plan.cells import Cell
    from compat.runner.result import CellResult

HELP = "run the compatibility matrix and write matrix.json and matrix.md"
REAL_PLUGIN_ENV = "SMP_COMPAT_REAL_PLUGIN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Filters, the user's adapters, output directory, parallelism and timeout."""
    parser.add_argument(
        "--adapter",
        action="append",
        default=[],
        metavar="PATTERN",
        help="only these tools (name or glob; tool/variant with a slash); repeatable",
    )
    parser.add_argument(
        "--scenario", action="append", default=[], metavar="PATTERN", help="only these scenarios"
    )
    parser.add_argument(
        "--release",
        action="append",
        default=[],
        metavar="PATTERN",
        help="plugin releases to emulate (default: each scenario's three)",
    )
    parser.add_argument(
        "--adapters",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="your own adapter file or directory of *.toml (repeatable); their failing cells "
        "make the exit status 1",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("reports"), metavar="DIR", help="default: reports/"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="cells run in parallel (default: the core count)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="seconds per cell (default 60)"
    )
    parser.add_argument(
        "--keep-evidence",
        action="store_true",
        help="keep the evidence of clean passes too (default: failures, errors, warnings)",
    )
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help="run only share I of N of the cells (stable and cost-balanced; every part plans "
        "the same cells); join the parts with `smp-compat merge`",
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="print the ids of the cells the filters select, one a line, and run nothing "
        "(checks your adapter files too)",
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="do not install PyPI or npm tools, fetch PyPI bundles (AWS CLI v2) or build Go tools: "
        "their uncached cells are skipped",
    )


def _real_plugin() -> Path | None:
    from compat.errors import UserError  # noqa: PLC0415

    value = os.environ.get(REAL_PLUGIN_ENV)
    if not value:
        return None
    path = Path(value).expanduser().absolute()
    if not path.is_file() or not os.access(path, os.X_OK):
        raise UserError(f"{REAL_PLUGIN_ENV}={value}: not an executable file")
    return path


def _isolation() -> dict[str, str | None]:
    """The cell jail's mode here, and its warning when tools run less isolated than designed."""
    from compat.isolation.jail import isolation  # noqa: PLC0415

    found = isolation()
    return {"mode": found.mode, "warning": found.warning}


def main(args: argparse.Namespace) -> int:
    """Plan, run, write; see the module docstring for the exit status."""
    from compat.adapter.load import builtin_paths, load_adapters  # noqa: PLC0415
    from compat.adapter.model import MAX_TIMEOUT  # noqa: PLC0415
    from compat.errors import UserError  # noqa: PLC0415
    from compat.plan.cells import Filters, plan  # noqa: PLC0415
    from compat.plan.shard import fingerprint, parse_shard, share  # noqa: PLC0415

    shard = parse_shard(args.shard) if args.shard else None
    if args.jobs < 1:
        raise UserError(f"--jobs {args.jobs}: expected 1 or more")
    if not math.isfinite(args.timeout) or not 0 < args.timeout <= MAX_TIMEOUT:
        raise UserError(
            f"--timeout {args.timeout}: expected a number of seconds > 0 and at most "
            f"{MAX_TIMEOUT:g}"
        )
    for path in args.adapters:
        if not path.exists():
            raise UserError(f"--adapters {path}: no such file or directory")
    real = _real_plugin()
    adapters = load_adapters(args.adapters, builtin=True)
    builtin = {p.resolve() for p in builtin_paths()}
    user_tools = {
        a.name for a in adapters if a.path is not None and a.path.resolve() not in builtin
    }
    if real is not None and args.release:
        raise UserError(f"--release applies to the fake plugin; {REAL_PLUGIN_ENV} is set")
    filters = Filters(tuple(args.adapter), tuple(args.scenario), tuple(args.release))
    cells = plan(adapters, releases=("real",) if real else None, filters=filters)
    if not cells:
        raise UserError("the filters leave no cell to run")
    planned = cells
    if shard is not None:
        cells = share(planned, shard)
        print(f"shard {shard}: {len(cells)} of {len(planned)} cells")
    if args.list:
        for cell in cells:
            print(cell.id)
        return 0
    from compat.report import markdown, matrix  # noqa: PLC0415
    from compat.report import summary as step_summary  # noqa: PLC0415
    from compat.report.bundle import Staging, render_into  # noqa: PLC0415
    from compat.report.schema import validate  # noqa: PLC0415

    # The new run writes its evidence and reports into a staging directory inside --out and
    # replaces the previous report only once all of it is written: a failed start, Ctrl-C or
    # kill leaves the previous report and the evidence it links to as they were.
    with Staging(args.out) as staging:
        (staging.path / "evidence").mkdir()
        if cells:
            results, started, finished = _run(cells, args, real, staging.path)
        else:  # more shards than costly cells: an empty part, still needed by merge
            results, started = [], time.time()
            finished = started
        document = matrix.build(
            cells,
            results,
            plan_cells=planned,
            plan_fingerprint=fingerprint(planned),
            shard=(shard.index, shard.count) if shard is not None else None,
            started=started,
            finished=finished,
            jobs=args.jobs,
            timeout=args.timeout,
            real_plugin=str(real) if real else None,
            user_tools=user_tools,
            filters={"adapter": args.adapter, "scenario": args.scenario, "release": args.release},
            isolation=_isolation() if cells else None,
        )
        # Validated before anything is written, so drift between runner and schema shows.
        validate(document, source=str(args.out / "matrix.json"))
        render_into(document, staging.path, matrix=True)
        staging.commit()
    json_path, md_path = args.out / "matrix.json", args.out / "matrix.md"
    step_summary.append(markdown.render(document, level=2))
    summary = document["summary"]
    counts = ", ".join(f"{summary[k]} {k}" for k in ("pass", "fail", "error", "skipped", "n/a"))
    print(f"{len(results)} cells in {document['run']['duration_s']} s: {counts}")
    print(f"wrote {json_path}, {md_path}, junit.xml and badges/ in {args.out}")
    regressed = [r for r in results if r.tool in user_tools and r.outcome in ("fail", "error")]
    for result in regressed:
        print(f"  {result.id}: {result.outcome} {result.reason} — {result.remedy}")
    untested = _nothing_tested(results, user_tools) if shard is None else None
    if untested is not None:
        print(untested)
    # Last, so it is what a terminal leaves in view: the page to open.
    print(f"report page: {(args.out / 'index.html').absolute()}")
    return 1 if regressed or untested is not None else 0


def _nothing_tested(results: list[CellResult], user_tools: set[str]) -> str | None:
    """One line saying why, when the user's adapters ran cells and none was judged (all
    ``skipped`` or ``n/a``); ``None`` when something was tested or nothing of theirs ran.
    Cells that errored already fail the run."""
    mine = [r for r in results if r.tool in user_tools]
    if not mine or any(r.outcome in ("pass", "fail", "error") for r in mine):
        return None
    skipped = [r for r in mine if r.outcome == "skipped"]
    why = f"; {skipped[0].reason}: {skipped[0].detail}" if skipped else ""
    tools = ", ".join(sorted({r.tool for r in mine}))
    return (
        f"nothing of your adapters was tested ({tools}): {len(skipped)} cells skipped, "
        f"{len(mine) - len(skipped)} n/a{why}"
    )


def _run(
    cells: list[Cell], args: argparse.Namespace, real: Path | None, out_dir: Path
) -> tuple[list[CellResult], float, float]:
    from compat.errors import UserError  # noqa: PLC0415
    from compat.fakeaws import FakeAWS, FakeAWSError  # noqa: PLC0415
    from compat.fakeaws.errors import ProxyError  # noqa: PLC0415
    from compat.runner import run_cells  # noqa: PLC0415

    started = time.time()
    fake = FakeAWS()
    try:
        fake.start()
    except (FakeAWSError, ProxyError, OSError) as exc:
        raise UserError(f"cannot start the fake AWS on 127.0.0.1: {exc}") from None
    try:
        with _Progress(len(cells)) as progress:
            results = run_cells(
                cells,
                fake=fake,
                out_dir=out_dir,
                jobs=args.jobs,
                timeout=args.timeout,
                real_plugin=real,
                install=not args.no_install,
                keep_passing=args.keep_evidence,
                on_result=progress.advance,
            )
    finally:
        fake.stop()
    return results, started, time.time()


class _Progress:
    """A rich progress bar with live counts on a terminal; one plain line per cell otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.counts = {"pass": 0, "fail": 0, "error": 0, "skipped": 0, "n/a": 0}
        self.done = 0
        self._bar: object | None = None
        self._task: object | None = None

    def __enter__(self) -> _Progress:
        if sys.stderr.isatty():
            from rich.console import Console  # noqa: PLC0415
            from rich.progress import (  # noqa: PLC0415  # noqa: PLC0415
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            bar = Progress(
                TextColumn("[bold]cells"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            bar.start()
            self._task = bar.add_task("cells", total=self.total, counts=self._counts())
            self._bar = bar
        return self

    def _counts(self) -> str:
        return (
            f"[green]{self.counts['pass']} pass[/] [red]{self.counts['fail']} fail[/] "
            f"[magenta]{self.counts['error']} error[/] {self.counts['skipped']} skipped "
            f"{self.counts['n/a']} n/a"
        )

    def advance(self, result: CellResult) -> None:
        self.counts[result.outcome] = self.counts.get(result.outcome, 0) + 1
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, counts=self._counts())  # type: ignore[attr-defined]
        else:
            reason = f" {result.reason}" if result.reason else ""
            print(
                f"[{self.done}/{self.total}] {result.id}: {result.outcome}{reason}",
                file=sys.stderr,
                flush=True,
            )

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()  # type: ignore[attr-defined]
