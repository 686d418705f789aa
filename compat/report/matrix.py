"""The matrix: ``matrix.json``, a versioned document that is the source of every report.

Other reports (HTML, JUnit, badges, baseline diffs) are built from ``matrix.json`` alone, so it
carries everything: the run header, rows (tool variants with their source), columns (scenario x
plugin release) and one entry per cell with its verdict, remedy and evidence.

It is committed as a baseline, so two runs on one commit write the same document but for its
``run`` header: times, durations (the run's and its slowest cells'), the kit, moto and Python
versions, the host, jobs and filters live there and nowhere else. Cells carry no durations, a
row's ``adapter_file`` is ``adapters/<name>.toml`` for a built-in adapter (not where the kit is
installed) and a user's adapter path relative to the working directory when inside it, and a
cell's detail names no host path (README, "Reports and CI").
"""

from __future__ import annotations

import json
import platform
import secrets
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict, cast

from compat.evidence.mask import host_masker
from compat.plan.cells import Cell
from compat.plan.scenario import CATALOGUE
from compat.report.errors import MergeError
from compat.runner.result import CellJson, CellResult
from compat.verdict.agreement import checked_against
from compat.verdict.reasons import Outcome
from compat.verdict.rules import settle_endpoint_warnings
from fake_plugin.versions import version_key

__all__ = [
    "SCHEMA_VERSION",
    "MatrixCell",
    "MatrixDocument",
    "build",
    "merge",
    "write",
]

#: Bump when a field changes meaning; readers refuse versions they do not know.
SCHEMA_VERSION = 1
#: How many of the slowest cells the run header names, with their durations.
SLOWEST = 5


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _version(dist: str) -> str | None:
    from importlib import metadata  # noqa: PLC0415

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


class MatrixCell(CellJson):
    """One cell of ``matrix.json``: a :class:`CellResult` placed in its row and column."""

    #: ``<tool>/<variant id>``
    row: str
    #: ``<scenario>/<release>``
    column: str


class MatrixDocument(TypedDict):
    """``matrix.json`` as :func:`build` writes it (``compat/report/matrix.schema.json``)."""

    schema_version: int
    kind: str
    run: dict[str, Any]
    summary: dict[str, int]
    scenarios: list[dict[str, str]]
    rows: list[dict[str, Any]]
    columns: list[dict[str, str]]
    cells: list[MatrixCell]
    replay_checks: dict[str, dict[str, Any]]


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
        "requires": (
            requires.pypi or requires.go or requires.npm or requires.binary or requires.path_env
        )
        if requires
        else None,
        "notes": variant.notes,
        "user_adapter": cell.adapter.name in user_tools,
        "adapter_file": adapter_file(cell.adapter.path) if cell.adapter.path else None,
    }


def adapter_file(path: Path) -> str:
    """How a row names its adapter file, the same on every machine: a built-in adapter by its
    path in the package (``adapters/aws-gate.toml``), a user's by the path given, relative to
    the working directory when inside it."""
    import adapters  # noqa: PLC0415 - the built-in adapters' package

    absolute = Path(path).absolute()
    for base, prefix in ((Path(adapters.__file__).parent, Path("adapters")), (Path.cwd(), None)):
        if absolute.is_relative_to(base):
            relative = absolute.relative_to(base)
            return (prefix / relative if prefix else relative).as_posix()
    return str(path)


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
    plan_cells: Sequence[Cell] | None = None,
    plan_fingerprint: str | None = None,
    shard: tuple[int, int] | None = None,
    isolation: Mapping[str, str | None] | None = None,
) -> MatrixDocument:
    """The matrix.json document for one run (``cells`` and ``results`` in the same order).

    A shard's run (``shard = (index, count)``) passes the whole plan as ``plan_cells``: its
    rows, columns and releases are the whole plan's, so every part of a sharded run has the
    same ones and :func:`merge` can put the cells back in plan order.
    """
    users = frozenset(user_tools)
    everything = cells if plan_cells is None else plan_cells
    rows: dict[str, dict[str, Any]] = {}
    columns: dict[str, dict[str, Any]] = {}
    for cell in everything:
        row = _row(cell, users)
        rows.setdefault(row["id"], row)
        column_id = f"{cell.scenario.name}/{cell.release}"
        columns.setdefault(
            column_id,
            {"id": column_id, "scenario": cell.scenario.name, "release": cell.release},
        )
    placed: list[MatrixCell] = []
    hosts = host_masker()
    for cell, result in zip(cells, results, strict=True):
        entry: MatrixCell = {
            "row": f"{cell.adapter.name}/{cell.variant.id}",
            "column": f"{cell.scenario.name}/{cell.release}",
            **result.to_json(),
        }
        # Durations differ on every run: only the header's slowest cells keep theirs.
        del entry["duration_s"], entry["tool_duration_s"]
        entry["detail"] = hosts.text(entry["detail"])
        placed.append(entry)
    entries = cast("list[MatrixCell]", settle_endpoint_warnings(placed))
    counts = Counter(r.outcome for r in results)
    releases = sorted(
        {c.release for c in everything},
        key=version_key,
    )
    judged = [r for r in results if r.outcome in ("pass", "fail", "error")]
    overhead = sorted(r.duration_s - r.tool_duration_s for r in judged)
    slowest = sorted(results, key=lambda r: r.duration_s, reverse=True)[:SLOWEST]
    duration = finished - started
    run_extra: dict[str, Any] = {}
    if plan_fingerprint is not None:
        run_extra["plan_fingerprint"] = plan_fingerprint
    if shard is not None:
        run_extra["shard"] = {"index": shard[0], "count": shard[1], "plan_cells": len(everything)}
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
            # How isolated the tools ran (docs/isolation.md); a warning when less than designed.
            "isolation": dict(isolation) if isolation is not None else None,
            "jobs": jobs,
            "timeout_s": timeout,
            "filters": {k: list(v) for k, v in (filters or {}).items()},
            "cells_per_second": round(len(results) / duration, 3) if duration > 0 else None,
            "median_overhead_s": round(overhead[len(overhead) // 2], 3) if overhead else None,
            "slowest_cells": [
                {
                    "id": r.id,
                    "duration_s": round(r.duration_s, 3),
                    "tool_duration_s": round(r.tool_duration_s, 3),
                }
                for r in slowest
            ],
            **run_extra,
        },
        "summary": {
            k: counts.get(Outcome(k), 0) for k in ("pass", "fail", "error", "skipped", "n/a")
        },
        "scenarios": [
            {"name": s.name, "title": s.title, "why": s.why}
            for s in CATALOGUE.values()
            if any(c["scenario"] == s.name for c in columns.values())
        ],
        "rows": list(rows.values()),
        "columns": list(columns.values()),
        "cells": entries,
        "replay_checks": checked_against(list(rows.values()), entries),
    }


def write(document: Mapping[str, Any], out_dir: Path, name: str = "matrix.json") -> Path:
    """Write ``out_dir/name`` whole: a temporary file beside it, then a rename (the reports
    in ``compat.report.bundle`` write a whole directory the same way)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    # Not tempfile: its files are 0600, and a report is for reading (the umask decides).
    temporary = out_dir / f".{name}.{secrets.token_hex(4)}"
    try:
        temporary.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", "utf-8")
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


#: ``run`` fields every part of one sharded run must share (what changes a cell's verdict or
#: what was planned). Timings, hosts and job counts may differ between CI machines.
_SAME_RUN = ("kit_version", "plan_fingerprint", "filters", "plugin", "moto_version", "timeout_s")


def _shard_of(document: Mapping[str, Any], name: str) -> tuple[int, int]:
    shard = document["run"].get("shard")
    if not isinstance(shard, Mapping):
        raise MergeError(f"{name}: not a shard's matrix (written without `run --shard I/N`)")
    return int(shard["index"]), int(shard["count"])


def merge(parts: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """One matrix from every shard of a run; ``parts`` are ``(name, document)`` pairs.

    Refuses parts of different runs (plan fingerprint, filters, kit and moto version, plugin,
    timeout, schema), a shard or a cell given twice, and missing shards, naming them. The
    result has the cells in plan order, the summary recounted and no ``shard`` mark; its
    ``run.shards`` keeps each part's timing.
    """
    if not parts:
        raise MergeError("no matrix to merge")
    first_name, first = parts[0]
    count = _shard_of(first, first_name)[1]
    seen: dict[int, str] = {}
    for name, document in parts:
        if document.get("schema_version") != SCHEMA_VERSION:
            raise MergeError(
                f"{name}: schema_version {document.get('schema_version')!r}; "
                f"this smp-compat merges {SCHEMA_VERSION}"
            )
        index, its_count = _shard_of(document, name)
        if its_count != count:
            raise MergeError(f"{name}: shard {index}/{its_count}, but {first_name} is of {count}")
        if index in seen:
            raise MergeError(f"{name}: shard {index}/{count} is also {seen[index]}")
        seen[index] = name
        for key in _SAME_RUN:
            if document["run"].get(key) != first["run"].get(key):
                raise MergeError(
                    f"{name}: run.{key} {document['run'].get(key)!r} differs from {first_name}'s "
                    f"{first['run'].get(key)!r}: parts of different runs"
                )
        for key in ("rows", "columns", "scenarios"):
            if document[key] != first[key]:
                raise MergeError(f"{name}: its {key} differ from {first_name}'s: different plans")
    missing = sorted(set(range(1, count + 1)) - set(seen))
    if missing:
        shown = ", ".join(f"{i}/{count}" for i in missing)
        raise MergeError(f"missing shard(s) {shown}: run `smp-compat run --shard I/N` for each")
    row_order = {row["id"]: i for i, row in enumerate(first["rows"])}
    column_order = {column["id"]: i for i, column in enumerate(first["columns"])}
    cells: dict[str, Mapping[str, Any]] = {}
    owner: dict[str, str] = {}
    for name, document in parts:
        for cell in document["cells"]:
            if cell["id"] in cells:
                raise MergeError(f"{name}: cell {cell['id']} is also in {owner[cell['id']]}")
            cells[cell["id"]] = cell
            owner[cell["id"]] = name
    planned = first["run"]["shard"].get("plan_cells")
    if planned is not None and len(cells) != planned:
        raise MergeError(f"the parts hold {len(cells)} cells; the plan has {planned}")
    ordered = sorted(cells.values(), key=lambda c: (row_order[c["row"]], column_order[c["column"]]))
    return _merged(parts, ordered)


def _merged(
    parts: Sequence[tuple[str, Mapping[str, Any]]], cells: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    first = parts[0][1]
    runs = sorted((p[1]["run"] for p in parts), key=lambda r: int(r["shard"]["index"]))
    run = {k: v for k, v in first["run"].items() if k != "shard"}
    # The parts ran side by side: the run took as long as its slowest part.
    duration = max(float(r["duration_s"]) for r in runs)
    # Cells carry no durations: the parts' medians stand for the whole run's.
    medians = sorted(
        float(r["median_overhead_s"]) for r in runs if r.get("median_overhead_s") is not None
    )
    slowest = sorted(
        (c for r in runs for c in r.get("slowest_cells") or ()),
        key=lambda c: float(c["duration_s"]),
        reverse=True,
    )
    run.update(
        started_at=min(r["started_at"] for r in runs),
        finished_at=max(r["finished_at"] for r in runs),
        duration_s=round(duration, 3),
        jobs=sum(int(r["jobs"]) for r in runs),
        cells_per_second=round(len(cells) / duration, 3) if duration > 0 else None,
        median_overhead_s=medians[len(medians) // 2] if medians else None,
        slowest_cells=slowest[:SLOWEST],
        shards=[
            {
                "index": r["shard"]["index"],
                "count": r["shard"]["count"],
                "started_at": r["started_at"],
                "duration_s": r["duration_s"],
                "jobs": r["jobs"],
                "host": r.get("host"),
            }
            for r in runs
        ],
    )
    counts = Counter(str(c["outcome"]) for c in cells)
    return {
        **{k: v for k, v in first.items() if k not in ("run", "summary", "cells")},
        "run": run,
        "summary": {k: counts.get(k, 0) for k in ("pass", "fail", "error", "skipped", "n/a")},
        "cells": settle_endpoint_warnings(cells),
        "replay_checks": checked_against(first["rows"], cells),
    }
