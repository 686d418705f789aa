"""Does the matrix give the same verdicts twice? Runs it N times on one commit and compares.

Each run is a fresh ``smp-compat run --no-install --jobs J --out <tmp>/run-<i>`` process (its
own fake AWS) on the code of the checkout this script lives in. A judged cell (``pass``,
``fail``, ``error``) *differs* when its outcome, reason or warnings are not the same in every
run, or when it was judged in some runs only. Each one is printed with its value per run, then
the count and the time taken; the exit status is 1 if any cell differs (issue 9: a flipped cell
reads as a regression on a pull request).

    python benchmarks/stability.py                       # 5 runs of the built-in matrix
    python benchmarks/stability.py -n 3 -- --scenario port-forward
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
JUDGED = frozenset({"pass", "fail", "error"})

#: One cell's verdict as compared: outcome, reason, warnings (sorted).
Value = tuple[str, str | None, tuple[str, ...]]


def judged(matrix: Mapping[str, Any]) -> dict[str, Value]:
    """Cell id -> its verdict, for the judged cells of one ``matrix.json``."""
    return {
        c["id"]: (c["outcome"], c.get("reason"), tuple(sorted(c.get("warnings") or ())))
        for c in matrix["cells"]
        if c["outcome"] in JUDGED
    }


def differing(runs: Sequence[Mapping[str, Value]]) -> dict[str, list[Value | None]]:
    """Cells whose verdict is not the same in every run (``None``: not judged in that run)."""
    found: dict[str, list[Value | None]] = {}
    for cell in sorted(set().union(*runs)):
        values = [run.get(cell) for run in runs]
        if len(set(values)) > 1:
            found[cell] = values
    return found


def _shown(value: Value | None) -> str:
    if value is None:
        return "not judged"
    outcome, reason, warnings = value
    text = outcome + (f" {reason}" if reason else "")
    return text + (f" [{', '.join(warnings)}]" if warnings else "")


def run_matrix(out: Path, jobs: int, extra: Sequence[str]) -> float:
    """One ``smp-compat run`` of this checkout into ``out``; returns its wall time."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    argv = [sys.executable, "-m", "compat", "run", "--no-install", "--jobs", str(jobs)]
    started = time.monotonic()
    done = subprocess.run(
        [*argv, "--out", str(out), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):
        sys.exit(f"smp-compat run failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return time.monotonic() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=5, help="how many runs (default 5)")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs of each run (default 2)")
    parser.add_argument("--keep", type=Path, help="keep the runs' reports under this directory")
    parser.add_argument("extra", nargs="*", help="after --: more `smp-compat run` options")
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("-n must be at least 2: stability is a comparison")
    with tempfile.TemporaryDirectory(prefix="smp-stability-") as scratch:
        base = args.keep or Path(scratch)
        results: list[dict[str, Value]] = []
        times: list[float] = []
        started = time.monotonic()
        for index in range(1, args.runs + 1):
            out = base / f"run-{index}"
            times.append(run_matrix(out, args.jobs, args.extra))
            matrix = json.loads((out / "matrix.json").read_text(encoding="utf-8"))
            results.append(judged(matrix))
            print(f"run {index}: {len(results[-1])} judged cells in {times[-1]:.0f} s", flush=True)
        total = time.monotonic() - started
    found = differing(results)
    for cell, values in found.items():
        print(f"DIFFERS {cell}: " + " | ".join(_shown(v) for v in values))
    cells = len(set().union(*results))
    share = 100 * len(found) / cells if cells else 0.0
    print(
        f"{len(found)} of {cells} judged cells differ between {args.runs} runs ({share:.1f} %); "
        f"{total:.0f} s in all, {total / args.runs:.0f} s per run"
    )
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
