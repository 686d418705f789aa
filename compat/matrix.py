"""The matrix: ``matrix.json`` (versioned schema, the source of every report) and ``matrix.md``.

Other reports (HTML, JUnit, badges, baseline diffs) are built from ``matrix.json`` alone, so it
carries everything: run metadata, rows (tool variants with their source), columns (scenario x
plugin release) and one entry per cell with its verdict, remedy, evidence and durations.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from compat.plan import Cell
from compat.runner.result import CellResult
from compat.scenario import CATALOGUE

__all__ = [
    "SCHEMA_VERSION",
    "SYMBOLS",
    "MatrixSchemaError",
    "build",
    "read",
    "render_markdown",
    "write",
]

#: Bump when a field changes meaning; readers refuse versions they do not know.
SCHEMA_VERSION = 1
#: Outcome -> symbol in matrix.md (a passing cell with warnings gets its own).
SYMBOLS: Mapping[str, str] = {
    "pass": "✅",
    "warn": "🟡",
    "fail": "❌",
    "error": "💥",
    "skipped": "⏭️",
    "n/a": "➖",  # noqa: RUF001 - a symbol, not a minus sign
}


class MatrixSchemaError(ValueError):
    """A matrix.json this version cannot read."""


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _version(dist: str) -> str | None:
    from importlib import metadata  # noqa: PLC0415

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _row(cell: Cell, user_tools: frozenset[str]) -> dict[str, Any]:
    variant = cell.variant
    source = variant.source
    requires = variant.requires
    return {
        "id": f"{cell.adapter.name}/{variant.id}",
        "tool": cell.adapter.name,
        "variant": variant.id,
        "version": variant.version,
        "mode": variant.mode,
        "kind": variant.kind,
        "homepage": cell.adapter.homepage,
        "source": str(source) if source else None,
        "source_url": source.url if source else None,
        "requires": (requires.pypi or requires.binary or requires.path_env) if requires else None,
        "notes": variant.notes,
        "user_adapter": cell.adapter.name in user_tools,
        "adapter_file": str(cell.adapter.path) if cell.adapter.path else None,
    }


def build(
    cells: Sequence[Cell],
    results: Sequence[CellResult],
    *,
    started: float,
    finished: float,
    jobs: int,
    timeout: float,
    real_plugin: str | None = None,
    user_tools: Iterable[str] = (),
    filters: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """The matrix.json document for one run (``cells`` and ``results`` in the same order)."""
    users = frozenset(user_tools)
    rows: dict[str, dict[str, Any]] = {}
    columns: dict[str, dict[str, Any]] = {}
    for cell in cells:
        row = _row(cell, users)
        rows.setdefault(row["id"], row)
        column_id = f"{cell.scenario.name}/{cell.release}"
        columns.setdefault(
            column_id,
            {"id": column_id, "scenario": cell.scenario.name, "release": cell.release},
        )
    entries = []
    for cell, result in zip(cells, results, strict=True):
        entry = {
            "row": f"{cell.adapter.name}/{cell.variant.id}",
            "column": f"{cell.scenario.name}/{cell.release}",
            **result.to_json(),
        }
        entries.append(entry)
    counts = Counter(r.outcome for r in results)
    releases = sorted(
        {c.release for c in cells},
        key=lambda r: [int(p) if p.isdigit() else 0 for p in r.split(".")],
    )
    judged = [r for r in results if r.outcome in ("pass", "fail", "error")]
    overhead = sorted(r.duration_s - r.tool_duration_s for r in judged)
    duration = finished - started
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "smp-compat-matrix",
        "run": {
            "kit_version": _version("smp-compat"),
            "started_at": _iso(started),
            "finished_at": _iso(finished),
            "duration_s": round(duration, 3),
            "host": {
                "python": sys.version.split()[0],
                "implementation": platform.python_implementation(),
                "platform": platform.platform(),
            },
            "plugin": {
                "kind": "real" if real_plugin else "fake",
                "real_binary": real_plugin,
                "releases": releases,
            },
            "moto_version": _version("moto"),
            "jobs": jobs,
            "timeout_s": timeout,
            "filters": {k: list(v) for k, v in (filters or {}).items()},
            "cells_per_second": round(len(results) / duration, 3) if duration > 0 else None,
            "median_overhead_s": round(overhead[len(overhead) // 2], 3) if overhead else None,
        },
        "summary": {k: counts.get(k, 0) for k in ("pass", "fail", "error", "skipped", "n/a")},
        "scenarios": [
            {"name": s.name, "title": s.title, "why": s.why}
            for s in CATALOGUE.values()
            if any(c["scenario"] == s.name for c in columns.values())
        ],
        "rows": list(rows.values()),
        "columns": list(columns.values()),
        "cells": entries,
    }


def write(document: Mapping[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write ``matrix.json`` and ``matrix.md`` into ``out_dir``; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "matrix.json", out_dir / "matrix.md"
    json_path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", "utf-8")
    md_path.write_text(render_markdown(document), encoding="utf-8")
    return json_path, md_path


def read(path: Path) -> dict[str, Any]:
    """A matrix.json document; :class:`MatrixSchemaError` for a version this kit cannot read."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise MatrixSchemaError(
            f"{path}: schema_version {version!r}; this smp-compat reads {SCHEMA_VERSION}"
        )
    return document


def _symbol(cell: Mapping[str, Any]) -> str:
    if cell["outcome"] == "pass" and cell.get("warnings"):
        return SYMBOLS["warn"]
    return SYMBOLS.get(str(cell["outcome"]), "?")


def render_markdown(document: Mapping[str, Any]) -> str:
    """Rows x scenarios, one symbol per plugin release, then what failed and how to fix it."""
    cells = document["cells"]
    releases: list[str] = list(document["run"]["plugin"]["releases"])
    scenarios = [s["name"] for s in document["scenarios"]]
    by_key = {(c["row"], c["scenario"], c["release"]): c for c in cells}
    run = document["run"]
    summary = document["summary"]
    lines = [
        "# smp-compat matrix",
        "",
        f"{run['finished_at']} · {run['duration_s']} s · {run['jobs']} jobs · plugin "
        f"{run['plugin']['kind']} · "
        + ", ".join(f"{summary[k]} {k}" for k in ("pass", "fail", "error", "skipped", "n/a")),
        "",
        "Each cell shows plugin releases "
        + " · ".join(releases)
        + ": "
        + ", ".join(f"{v} {k}" for k, v in SYMBOLS.items())
        + ".",
        "",
        "| tool/variant | version | mode | " + " | ".join(scenarios) + " |",
        "|---|---|---|" + "---|" * len(scenarios),
    ]
    for row in document["rows"]:
        marks = []
        for scenario in scenarios:
            found = [by_key.get((row["id"], scenario, r)) for r in releases]
            marks.append("".join(_symbol(c) if c else " " for c in found))
        lines.append(
            f"| {row['id']} | {row['version']} | {row['mode']} | " + " | ".join(marks) + " |"
        )
    lines += _section(cells, ("fail", "error"), "## Failures", releases, with_remedy=True)
    lines += _warnings_section(cells)
    lines += _section(cells, ("skipped",), "## Skipped", releases, with_remedy=False)
    return "\n".join(lines) + "\n"


def _where(members: Sequence[Mapping[str, Any]], releases: Sequence[str]) -> str:
    """``kms, kms-region (1.2.234.0)``: scenarios, with releases only when not all of them."""
    by_scenario: dict[str, set[str]] = defaultdict(set)
    for cell in members:
        by_scenario[cell["scenario"]].add(cell["release"])
    parts = []
    for scenario, found in by_scenario.items():
        if found >= set(releases):
            parts.append(scenario)
        else:
            parts.append(f"{scenario} ({', '.join(r for r in releases if r in found)})")
    return ", ".join(parts)


def _section(
    cells: Sequence[Mapping[str, Any]],
    outcomes: tuple[str, ...],
    title: str,
    releases: Sequence[str],
    *,
    with_remedy: bool,
) -> list[str]:
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for cell in cells:
        if cell["outcome"] in outcomes:
            groups[(cell["row"], cell["outcome"], cell["reason"] or "")].append(cell)
    if not groups:
        return []
    lines = ["", title, ""]
    for (row, outcome, reason), members in groups.items():
        where = _where(members, releases)
        first = members[0]
        lines.append(f"- **{row}** — `{reason}` ({outcome}) in {where}")
        lines.append(f"  - {first['explanation']}")
        if first.get("detail"):
            lines.append(f"  - seen: {first['detail']}")
        if with_remedy and first.get("remedy"):
            lines.append(f"  - fix: {first['remedy']}")
        if first.get("evidence"):
            shown = ", ".join(f"[{k}]({v})" for k, v in first["evidence"].items())
            lines.append(f"  - evidence ({first['id']}): {shown}")
    return lines


def _warnings_section(cells: Sequence[Mapping[str, Any]]) -> list[str]:
    from compat import reasons  # noqa: PLC0415

    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for cell in cells:
        for code in cell.get("warnings") or ():
            groups[(cell["row"], code)].add(cell["scenario"])
    if not groups:
        return []
    lines = ["", "## Warnings (the session starts, but…)", ""]
    for (row, code), scenarios in groups.items():
        reason = reasons.get(code)
        lines.append(f"- **{row}** — `{code}` in {', '.join(sorted(scenarios))}")
        lines.append(f"  - {reason.explanation}")
        lines.append(f"  - fix: {reason.remedy}")
    return lines
