"""How fast the built-in matrix runs: cells/s, and the kit's overhead beside the tool's time.

Runs the full built-in matrix (or ``--adapter``/``--scenario`` filters) once per ``--jobs``
value and plugin launcher (the native launcher with its warm server, and the Python shim:
``--launcher native|shim``, both by default) against one fake AWS, and prints, side by side:
wall time, cells per second, the median per-cell time of the tool's own process (the plugin
included), and the median overhead of the kit (seed, sandbox, replay calls, transcript,
verdict, evidence: cell time minus tool time) with its 90th percentile, then the median and
p90 of each phase of a cell (``seed``: the target and the shared-resource gate; ``prepare``:
sandbox, values, replay calls; ``tool``; ``collect``: records and transcripts; ``judge``:
verdict and evidence). Only cells that ran a tool (pass/fail/error) count for the medians.
``--install`` allows pip installs of PyPI tools (the first run then includes them; later runs
use the venv cache). The aim (issue 12): 2 jobs warm under 60 s,
kit overhead per cell under 0.1 s.

    python benchmarks/matrix.py --jobs 2        # launcher native and shim, installs off
    python benchmarks/matrix.py --jobs 2 --scenario kms --launcher native
    python benchmarks/matrix.py --jobs 2 --launcher native --against reports/matrix.json
    python benchmarks/matrix.py --jobs 2 --launcher native --breakdown   # where tool time goes

``CPU kit s`` is this process's CPU time (runner, fake AWS, agent: all in-process), ``CPU
tools s`` its reaped children's (tools, plugins): on a machine shared with other work, wall
time alone says little; CPU time says what the run itself cost.

``--against MATRIX.json`` (repeatable) compares every run's verdicts (outcome, reason, warnings, as
``matrix.json`` settles them) with that matrix's, cell by cell: speed must not change results.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import timeline  # beside this file (benchmarks/timeline.py)

from compat.adapter.load import load_adapters
from compat.evidence.names import cell_dirname
from compat.fakeaws import FakeAWS
from compat.plan.cells import Filters, plan
from compat.report import matrix
from compat.runner import run_cells
from compat.runner.result import CellResult

LAUNCHERS = {"native": True, "shim": False}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, action="append", help="default: 1 and 2")
    parser.add_argument("--adapter", action="append", default=[])
    parser.add_argument("--scenario", action="append", default=[])
    parser.add_argument("--install", action="store_true")
    parser.add_argument("--launcher", action="append", choices=sorted(LAUNCHERS))
    parser.add_argument(
        "--against", type=Path, action="append", default=[], help="a matrix.json to compare with"
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="split the tool phase per variant and scenario (benchmarks/timeline.py)",
    )
    args = parser.parse_args()
    cells = plan(load_adapters(), filters=Filters(tuple(args.adapter), tuple(args.scenario)))
    started = time.monotonic()
    with FakeAWS() as fake:
        load = os.getloadavg()
        print(
            f"fake AWS started in {time.monotonic() - started:.2f} s; {len(cells)} cells; "
            f"load average {load[0]:.1f} {load[1]:.1f} on {os.cpu_count()} cores"
        )
        print(
            f"{'jobs':>4} {'launcher':>8} {'wall s':>8} {'cells/s':>8} {'ran':>4} "
            f"{'tool median s':>14} {'kit overhead median s':>22} {'overhead p90 s':>15} "
            f"{'CPU kit s':>9} {'CPU tools s':>11}"
        )
        runs = [(j, name) for j in args.jobs or [1, 2] for name in args.launcher or LAUNCHERS]
        verdicts: dict[tuple[int, str], dict[str, Verdict]] = {}
        for jobs, name in runs:
            recorder = timeline.recording() if args.breakdown else contextlib.nullcontext({})
            with tempfile.TemporaryDirectory() as out, recorder as lines:
                began, cpu = time.monotonic(), _cpu()
                results = run_cells(
                    cells,
                    fake=fake,
                    out_dir=Path(out),
                    jobs=jobs,
                    install=args.install,
                    launcher=LAUNCHERS[name],
                )
                wall = time.monotonic() - began
                kit_cpu, tools_cpu = (b - a for a, b in zip(cpu, _cpu(), strict=True))
            document = matrix.build(
                cells, results, started=0.0, finished=wall, jobs=jobs, timeout=60.0
            )
            verdicts[jobs, name] = _verdicts(document)
            ran = [r for r in results if r.outcome in ("pass", "fail", "error")]
            tool = statistics.median(r.tool_duration_s for r in ran) if ran else 0.0
            overheads = sorted(r.duration_s - r.tool_duration_s for r in ran)
            overhead = statistics.median(overheads) if ran else 0.0
            p90 = overheads[int(len(overheads) * 0.9)] if ran else 0.0
            print(
                f"{jobs:>4} {name:>8} {wall:>8.1f} {len(results) / wall:>8.2f} {len(ran):>4} "
                f"{tool:>14.3f} {overhead:>22.3f} {p90:>15.3f} {kit_cpu:>9.1f} {tools_cpu:>11.1f}",
                flush=True,
            )
            _phases(ran)
            if args.breakdown:
                timeline.print_breakdown(
                    [
                        (f"{r.tool}/{r.variant}", r.scenario, lines[cell_dirname(r.id)].parts())
                        for r in ran
                        if cell_dirname(r.id) in lines
                    ]
                )
        print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        _agreement(verdicts)
        for path in args.against:
            _against(path, verdicts)


Verdict = tuple[str, str | None, tuple[str, ...]]


def _cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process (the kit, the fake AWS, the agent) and of
    its reaped children (tools, plugins, the launcher's server once it ended)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _verdicts(document: dict[str, Any]) -> dict[str, Verdict]:
    return {
        c["id"]: (c["outcome"], c["reason"], tuple(sorted(c["warnings"])))
        for c in document["cells"]
    }


def _against(path: Path, verdicts: dict[tuple[int, str], dict[str, Verdict]]) -> None:
    """Cells whose verdict differs from the matrix at ``path`` (only cells both planned)."""
    theirs = _verdicts(json.loads(path.read_text(encoding="utf-8")))
    for run, mine in verdicts.items():
        both = sorted(set(mine) & set(theirs))
        differ = [i for i in both if mine[i] != theirs[i]]
        print(f"verdicts {run} vs {path}: {len(both) - len(differ)} agree, {len(differ)} differ")
        for cell in differ:
            print(f"  {cell}: {theirs[cell]} there, {mine[cell]} here")


def _phases(ran: list[CellResult]) -> None:
    """Median and p90 seconds of each phase, and the slowest cells (where the tail is)."""
    names = list(dict.fromkeys(n for r in ran for n in r.phases))
    for name in names:
        values = sorted(r.phases.get(name, 0.0) for r in ran)
        print(
            f"{'':>14}{name:>8}: median {statistics.median(values):.3f} s, "
            f"p90 {values[int(len(values) * 0.9)]:.3f} s, total {sum(values):.1f} s"
        )
    for r in sorted(ran, key=lambda r: -r.duration_s)[:5]:
        print(f"{'':>14}slowest: {r.id} {r.duration_s:.1f} s (tool {r.tool_duration_s:.1f} s)")


def _agreement(verdicts: dict[tuple[int, str], dict[str, Verdict]]) -> None:
    """Cells whose verdict differs between runs: the launcher must change speed, not results."""
    runs = list(verdicts)
    for other in runs[1:]:
        first = verdicts[runs[0]]
        differ = sorted(i for i, v in verdicts[other].items() if first.get(i) != v)
        agree = len(first) - len(differ)
        print(f"verdicts {runs[0]} vs {other}: {agree} agree, {len(differ)} differ")
        for cell in differ[:20]:
            print(f"  {cell}: {first.get(cell)} vs {verdicts[other][cell]}")


if __name__ == "__main__":
    main()
