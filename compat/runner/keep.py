"""The keep stage of a cell: its evidence kept under the report directory, masked.

Failures, errors and warnings keep their evidence (clean passes too with ``--keep-evidence``);
what varies between runs is masked in the files and in the verdict's detail alike
(``compat/evidence/keep.py``), so a rerun writes the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from compat.evidence.keep import cell_masker, keep_evidence, verdict_facts
from compat.runner import process
from compat.runner.judge import target_ids
from compat.verdict.reasons import Outcome

if TYPE_CHECKING:
    from compat.plan.cells import Cell
    from compat.runner.context import RunContext
    from compat.runner.prepare import Prepared
    from compat.runner.process import Finished
    from compat.verdict.rules import Evidence, Verdict

__all__ = ["Kept", "keep"]


@dataclass(frozen=True)
class Kept:
    #: Name -> path relative to the report directory.
    paths: dict[str, str]
    #: The verdict's detail, masked, with a note of the streams cut at the cap.
    detail: str


def keep(
    cell: Cell,
    ctx: RunContext,
    prepared: Prepared,
    evidence: Evidence,
    verdict: Verdict,
    finished: Finished,
) -> Kept:
    """Keep what the verdict calls for, and the detail as a report may show it."""
    creds = prepared.creds
    masker = cell_masker(
        {**prepared.values, **target_ids(prepared.target)},
        extra={
            "access_key_id": creds.access_key_id,
            "secret_access_key": creds.secret_access_key,
            "marker": prepared.marker,
        },
        sandbox=prepared.sandbox.root,
        work=ctx.work_dir,
        cluster_made_up=cell.variant.cluster is None,
        sessions=[*evidence.transcripts, *evidence.sessions],
    )
    record = prepared.sandbox.record_file
    paths: dict[str, str] = {}
    if verdict.outcome != Outcome.PASS or ctx.keep_passing:
        paths = keep_evidence(
            ctx.out_dir, cell.id, masker, record=record, transcripts=evidence.transcripts,
            calls=prepared.command.calls, argv=prepared.command.argv,
            stdout=prepared.stdout, stderr=prepared.stderr,
            verdict=verdict_facts(verdict, evidence),
        )  # fmt: skip
    elif verdict.warnings:
        # Warnings come from argv alone: the plugin record is the whole evidence.
        paths = keep_evidence(ctx.out_dir, cell.id, masker, record=record)
    return Kept(paths, masker.text(_noting_cuts(verdict.detail, finished.truncated)))


def _noting_cuts(detail: str, truncated: tuple[str, ...]) -> str:
    """The verdict's detail, plus which of the tool's streams were cut at the cap: the
    evidence then holds only their beginning, and a reader must not take it for the whole."""
    if not truncated:
        return detail
    streams = " and ".join(truncated)
    note = f"the tool's {streams} was cut at {process.OUTPUT_CAP} bytes as it was written"
    return f"{detail}; {note}" if detail else note
