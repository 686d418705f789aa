"""Run many cells: requirements first (once, in parallel), then cells on a thread pool.

Each cell is a subprocess, so threads are enough; the fake AWS is one per run and shared.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from compat.fakeaws import FakeAWS
from compat.isolation.jail import isolation
from compat.launcher import PluginServer, start_server
from compat.plan.cells import Cell
from compat.plan.shard import cost
from compat.runner.cell import RunContext, gate_key, run_cell
from compat.runner.gate import KmsGate
from compat.runner.process import allow_runs, terminate_all
from compat.runner.result import CellResult
from compat.runner.toolenv import Missing, Resolved, resolve

__all__ = ["expected_cost", "resolve_tools", "run_cells", "schedule"]


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
        try:
            return {key: f.result() for key, f in futures.items()}
        except BaseException:
            # Interrupted: the install steps under way end now, not after a cold build.
            terminate_all()
            raise


#: Cost of a cell that may wait out a resume window (``reconnect``: ~8 s, mostly waiting), in
#: the units of :data:`compat.plan.shard.COSTS`.
RESUME_COST = 16


def expected_cost(cell: Cell) -> int:
    """How long the cell is expected to take, in :data:`compat.plan.shard.COSTS` units."""
    base = cost(cell)
    if base and cell.scenario.seed.drop_websocket_once:
        return base + RESUME_COST
    return base


def schedule(cells: Sequence[Cell]) -> list[int]:
    """The order cells start in: longest first, so no long cell starts last and runs alone
    (the tail); within one cost, cells that share a resource with one KMS setting together, so
    workers rarely wait for a switch (gate.py); then plan order."""

    def key(i: int) -> tuple[int, bool, tuple[str, ...], int]:
        gate = gate_key(cells[i])
        return (-expected_cost(cells[i]), gate is None, gate or (), i)

    return sorted(range(len(cells)), key=key)


class _Queue:
    """The cells not yet started, in :func:`schedule` order. A worker takes the first one
    whose shared resource it can hold now (gate.py), so it runs another cell instead of
    waiting for a KMS switch; only when every cell left would wait does it take the first."""

    def __init__(self, cells: Sequence[Cell], order: list[int], gate: KmsGate) -> None:
        self._keys = {i: gate_key(cells[i]) for i in order}
        self._pending = list(order)
        self._gate = gate
        self._lock = threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            if not self._pending:
                return None
            for pos, index in enumerate(self._pending):
                key = self._keys[index]
                if key is None or self._gate.free(key[:-1], key[-1] == "on"):
                    return self._pending.pop(pos)
            return self._pending.pop(0)


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
    allow_runs()  # a run interrupted before in this process stopped its installs too
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

    queue = _Queue(cells, schedule(cells), ctx.gate)
    results: dict[int, CellResult] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="cell")

    def worker() -> None:
        while (index := queue.take()) is not None:
            result = run_cell(cells[index], ctx)
            results[index] = result
            if on_result is not None:
                on_result(result)

    try:
        for future in [pool.submit(worker) for _ in range(max(1, jobs))]:
            future.result()
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
