"""Render a 5,000-cell matrix into every report and print the time each takes (target: < 2 s)."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from compat.report import badges, diff, html, junit, markdown, schema
from compat.report.sample import sample_document

RELEASES = (
    "1.2.54.0", "1.2.205.0", "1.2.234.0", "1.2.245.0", "1.2.295.0",
    "1.2.312.0", "1.2.497.0", "1.2.536.0", "1.2.677.0",
)  # fmt: skip


def _time(label: str, work: Callable[[], object], cells: int) -> float:
    start = time.perf_counter()
    work()
    spent = time.perf_counter() - start
    print(f"{label:<22} {spent * 1000:8.1f} ms  {spent / cells * 1e6:6.1f} µs/cell")
    return spent


def main() -> None:
    """93 tool variants x 6 scenarios x 9 plugin releases = 5,022 cells."""
    document = sample_document(rows=93, scenarios=[f"kms-{i}" for i in range(6)], releases=RELEASES)
    cells = len(document["cells"])
    print(f"{cells} cells ({len(document['rows'])} rows x {len(document['columns'])} columns)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        checked = _time("validate (schema)", lambda: schema.validate(document), cells)
        total = sum(
            (
                _time("index.html", lambda: html.write(document, out / "index.html"), cells),
                _time("matrix.md", lambda: markdown.render(document), cells),
                _time("junit.xml", lambda: junit.write(document, out / "junit.xml"), cells),
                _time("badges (json+svg)", lambda: badges.write(document, out / "badges"), cells),
            )
        )
        compared = _time(
            "diff vs itself", lambda: diff.render(diff.compare(document, document)), cells
        )
        size = (out / "index.html").stat().st_size
    print(f"{'render (4 reports)':<22} {total * 1000:8.1f} ms  (target < 2000 ms)")
    print(f"{'with validate + diff':<22} {(total + checked + compared) * 1000:8.1f} ms")
    print(f"index.html {size / 1e6:.2f} MB")
    print(f"json size {len(json.dumps(document)) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
