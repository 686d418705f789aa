"""Run many cells: requirements first (once, in parallel), then cells on a thread pool.

Each cell is a subprocess, so threads are enough; the fake AWS is one per run and shared.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from compat.fakeaws import FakeAWS
from compat.launcher import PluginServer, start_server
from compat.plan.cells import Cell
from compat.runner.cell import RunContext, gate_key, run_cell
from compat.runner.jail import isolation
from compat.runner.process import allow_runs, terminate_all
from compat.runner.result import CellResult
from compat.runner.toolenv import Missing, Resolved, resolve

__all__ = ["resolve_tools", "run_cells"]


def resolve_tools(
    cells: Sequence[Cell], *, install: bool = True, jobs: int = 2
) -> dict[tuple[str, str], Resolved | Missing]:
    """Find or install every ``run`` variant's program once, before any cell starts."""
    variants = {
        (c.adapter.name, c.variant.id): c.variant
        for c in cells
        if c.variant.mode == "run" and c.not_applicable is None
    }
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {key: pool.submit(resolve, v, install=install) for key, v in variants.items()}
        return {key: f.result() for key, f in futures.items()}


def run_cells(
    cells: Sequence[Cell],
    *,
    fake: FakeAWS,
    out_dir: Path,
    jobs: int = 2,
    timeout: float = 60.0,
    real_plugin: Path | None = None,
    install: bool = True,
    keep_passing: bool = False,
    on_result: Callable[[CellResult], None] | None = None,
    launcher: bool = True,
) -> list[CellResult]:
    """Every cell's result, in the order of ``cells`` (n/a and skipped cells included).

    With ``launcher`` (and no real plugin) the fake plugin starts through the native launcher
    and one warm plugin server for the whole run (compat/launcher); else through the shim.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    tools = resolve_tools(cells, install=install, jobs=jobs)
    server: PluginServer | None = None
    if launcher and real_plugin is None and any(c.not_applicable is None for c in cells):
        server = start_server()
    if any(c.not_applicable is None for c in cells):
        warning = isolation().warning
        if warning is not None:
            print(f"smp-compat: warning: {warning}", file=sys.stderr, flush=True)
    work_dir = Path(tempfile.mkdtemp(prefix="smp-compat-run-"))
    ctx = RunContext(
        fake=fake,
        work_dir=work_dir,
        out_dir=out_dir,
        timeout=timeout,
        real_plugin=real_plugin,
        tools=tools,
        keep_passing=keep_passing,
        launcher=server.launcher if server is not None else None,
    )

    def one(cell: Cell) -> CellResult:
        result = run_cell(cell, ctx)
        if on_result is not None:
            on_result(result)
        return result

    # Cells that share a resource with one KMS setting run grouped, so workers rarely wait
    # for a switch (gate.py); results come back in plan order.
    order = sorted(
        range(len(cells)), key=lambda i: (gate_key(cells[i]) is None, gate_key(cells[i]) or (), i)
    )
    results: dict[int, CellResult] = {}
    allow_runs()
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="cell")
    try:
        for index, result in zip(order, pool.map(one, [cells[i] for i in order]), strict=True):
            results[index] = result
        return [results[i] for i in range(len(cells))]
    except BaseException:
        # Interrupted (SIGINT, SIGTERM, SIGHUP): no cell starts, the running ones are
        # stopped and wait for their processes to end before the temp dirs go.
        terminate_all()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if server is not None:
            server.stop()
        shutil.rmtree(work_dir, ignore_errors=True)
