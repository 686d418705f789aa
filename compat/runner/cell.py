"""One cell as a pipeline: prepare → launch → observe → judge → keep.

Each stage is a module of its own with one job: ``prepare`` (target seeded, sandbox, keys,
values, command), ``launch`` (the tool run to its end), ``observe`` (how it ended, records and
transcripts gathered, as the pytest harness does), ``judge`` (verdict and argv shape) and
``keep`` (evidence kept, masked). :func:`run_cell` only chains them, times them and turns a
failure of the kit into an ``error`` cell, so the matrix goes on.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

from compat.evidence import kms_demanded, shared_resource
from compat.plan.cells import Cell
from compat.runner.context import RunContext
from compat.runner.errors import CellRefused
from compat.runner.judge import Judged, judge_cell
from compat.runner.keep import Kept, keep
from compat.runner.launch import launch
from compat.runner.observe import ToolEnd, observe, tool_output
from compat.runner.prepare import prepare, sandbox_root, seeded_target
from compat.runner.result import CellResult
from compat.runner.toolenv import Missing, Resolved
from compat.verdict import reasons

__all__ = ["RunContext", "gate_key", "run_cell"]


class _Phases:
    """Wall time per phase of a cell, each phase ending where the next begins."""

    def __init__(self, started: float) -> None:
        self.seconds: dict[str, float] = {}
        self._last = started

    def end(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._last
        self._last = now


def _result(cell: Cell, started: float, **fields: Any) -> CellResult:
    return CellResult(
        id=cell.id,
        tool=cell.adapter.name,
        variant=cell.variant.id,
        scenario=cell.scenario.name,
        release=cell.release,
        duration_s=time.monotonic() - started,
        **fields,
    )


def _reasoned(cell: Cell, started: float, code: str, detail: str) -> CellResult:
    reason = reasons.get(code)
    return _result(
        cell,
        started,
        outcome=reason.outcome,
        reason=code,
        explanation=reason.explanation,
        remedy=reason.remedy,
        detail=detail,
    )


def _tool(cell: Cell, ctx: RunContext) -> Resolved | None:
    """The run variant's resolved program (``None`` for a replay).

    Raises:
        CellRefused: the program is missing, or was never resolved.
    """
    if cell.variant.mode != "run":
        return None
    tool = ctx.tools.get((cell.adapter.name, cell.variant.id))
    if isinstance(tool, Missing):
        raise CellRefused(tool.code, tool.detail)
    if tool is None:
        raise CellRefused("harness-error", "requirement was not resolved")
    return tool


def run_cell(cell: Cell, ctx: RunContext) -> CellResult:
    """The cell's result; never raises for a tool's or the kit's failure (``error`` then)."""
    started = time.monotonic()
    if cell.not_applicable is not None:
        return _reasoned(cell, started, cell.not_applicable, cell.not_applicable_detail)
    try:
        resolved = _tool(cell, ctx)
    except CellRefused as exc:
        return _reasoned(cell, started, exc.code, exc.detail)
    launch_ = cell.launch
    assert launch_ is not None
    phases = _Phases(started)
    try:
        with seeded_target(cell, ctx) as target:
            phases.end("seed")
            prepared = prepare(cell, ctx, launch_, target, resolved)
            phases.end("prepare")
            finished = launch(cell, ctx, prepared, resolved)
            phases.end("tool")
            end = ToolEnd.of(finished, *tool_output(prepared.stdout, prepared.stderr))
            evidence = observe(
                ctx.fake, prepared.sandbox.record_file, prepared.creds.access_key_id, end
            )
            phases.end("collect")
            judged = judge_cell(cell.scenario, ctx.fake, target, evidence)
            kept = keep(cell, ctx, prepared, evidence, judged.verdict, finished)
            phases.end("judge")
            return _judged(cell, started, judged, kept, finished.duration_s, phases)
    except CellRefused as exc:
        return _reasoned(cell, started, exc.code, exc.detail)
    except Exception as exc:  # the kit's own fault: the matrix goes on
        return _reasoned(cell, started, "harness-error", f"{type(exc).__name__}: {exc}")
    finally:
        # Its evidence is copied out by now; removing it here, while the other workers run
        # tools, spares the run one long serial removal of every sandbox at its end.
        shutil.rmtree(sandbox_root(cell, ctx), ignore_errors=True)


def _judged(
    cell: Cell, started: float, judged: Judged, kept: Kept, tool_s: float, phases: _Phases
) -> CellResult:
    verdict = judged.verdict
    return _result(
        cell,
        started,
        outcome=verdict.outcome,
        reason=verdict.reason,
        explanation=verdict.explanation,
        remedy=verdict.remedy,
        warnings=verdict.warnings,
        detail=kept.detail,
        evidence=kept.paths,
        tool_duration_s=tool_s,
        argv_shape=judged.argv_shape,
        phases=phases.seconds,
    )


def gate_key(cell: Cell) -> tuple[str, ...] | None:
    """The shared resource a cell holds while it runs (gate.py), with its KMS setting."""
    if cell.not_applicable is not None:
        return None
    resource = shared_resource(
        cell.scenario, cell.variant.kind, cell.variant.cluster, cell.variant.session_document
    )
    if resource is None:
        return None
    return (*resource, "on" if kms_demanded(cell.scenario) else "off")
