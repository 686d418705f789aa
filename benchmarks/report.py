"""Render matrices of growing size into every report and print the time each step takes.

Two shapes per size: wide rows (each tool variant x 2 scenarios x 3 releases) and one cell per
row (as many rows as cells, which is what a quadratic-in-rows renderer trips on). The
"per cell" column should stay flat from 2k to 20k cells: rendering and diff are linear. Times
are CPU time of this process, so other jobs on a shared machine do not inflate them.
Targets (issue 12): every report of a 20,000-row matrix in under 10 s, its diff under 2 s.

    python benchmarks/report.py            # 2k, 5k, 20k cells
    python benchmarks/report.py 1000 4000  # other sizes
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compat.report import badges, diff, html, junit, markdown, schema
from compat.report.bundle import load, write_reports
from compat.report.sample import sample_document
from fake_plugin.versions import MATRIX_RELEASES

SIZES = (2_000, 5_000, 20_000)
RELEASES = MATRIX_RELEASES
#: Tools the rows are spread over: one badge each (anybadge draws one in about 1 ms).
TOOLS = 100


def _time(work: Callable[[], object]) -> float:
    """CPU seconds: on a machine shared with other jobs, wall time measures them too."""
    start = time.process_time()
    work()
    return time.process_time() - start


def _steps(document: dict[str, Any], out: Path) -> dict[str, Callable[[], object]]:
    path = out / "matrix.json"
    path.write_text(json.dumps(document, indent=1), "utf-8")
    other = json.loads(path.read_text("utf-8"))
    return {
        "load+validate": lambda: load(path),
        "validate": lambda: schema.validate(document),
        "index.html": lambda: html.render(document),
        "matrix.md": lambda: markdown.render(document),
        "junit.xml": lambda: junit.write(document, out / "junit.xml"),
        "badges": lambda: badges.write(document, out / "badges"),
        "diff": lambda: diff.render(diff.compare(document, other)),
        "report (all)": lambda: write_reports(document, out / "all", step_summary=False),
    }


def main(argv: list[str]) -> None:
    """Print one table: step x shape x size, in ms and µs per cell."""
    sizes = [int(a) for a in argv] or list(SIZES)
    shapes = {
        "6 cells/row": lambda n: sample_document(
            rows=max(1, n // 6), scenarios=["kms", "shell"], releases=RELEASES, tools=TOOLS
        ),
        "1 cell/row": lambda n: sample_document(
            rows=n, scenarios=["kms"], releases=RELEASES[:1], tools=TOOLS
        ),
    }
    header = f"{'step':<14} {'shape':<12} " + " ".join(f"{n:>18,}" for n in sizes)
    print(header + f"   (CPU ms, µs/cell; rows spread over {TOOLS} tools)")
    results: dict[tuple[str, str], list[str]] = {}
    sizes_mb: dict[str, list[str]] = {}
    for shape, make in shapes.items():
        for n in sizes:
            document = make(n)
            cells = len(document["cells"])
            with tempfile.TemporaryDirectory() as tmp:
                steps = _steps(document, Path(tmp))
                size = (Path(tmp) / "matrix.json").stat().st_size
                sizes_mb.setdefault(shape, []).append(f"{size / 1e6:.1f} MB")
                for step, work in steps.items():
                    spent = _time(work)
                    results.setdefault((step, shape), []).append(
                        f"{spent * 1000:9.0f} {spent / cells * 1e6:6.1f}µ"
                    )
    steps = dict.fromkeys(step for step, _ in results)
    for step in steps:
        for shape in shapes:
            times = results[(step, shape)]
            print(f"{step:<14} {shape:<12} " + " ".join(f"{t:>18}" for t in times))
    for shape, sizes_text in sizes_mb.items():
        print(f"{'matrix.json':<14} {shape:<12} " + " ".join(f"{t:>18}" for t in sizes_text))


if __name__ == "__main__":
    main(sys.argv[1:])
