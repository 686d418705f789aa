"""Matrices to render: a realistic sample, and one built by compat.report.matrix from a plan."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from compat.adapter.load import load_adapters
from compat.plan.cells import Filters, plan
from compat.report import matrix
from compat.report.sample import sample_document
from compat.runner.result import CellResult
from compat.verdict.reasons import REASONS

#: The sample's default columns when these tests were written.
PINNED_SCENARIOS = (
    "shell",
    "kms",
    "kms-profile",
    "kms-env-credentials",
    "kms-region",
    "port-forward",
)
PINNED_RELEASES = ("1.2.234.0", "1.2.497.0", "1.2.677.0")


@pytest.fixture
def document() -> dict[str, Any]:
    """216 cells: passes, warnings, failures with real remedies, one error, skips and n/a.

    The columns are pinned (the catalogue and the release registry may grow; these tests are
    about how a report shows these columns)."""
    return sample_document(scenarios=PINNED_SCENARIOS, releases=PINNED_RELEASES)


def built_document() -> dict[str, Any]:
    """A matrix.json as ``smp-compat run`` writes it (``matrix.build`` over planned cells)."""
    filters = Filters(
        adapters=("ecspresso/*", "copilot/*"),
        scenarios=("shell", "kms", "port-forward"),
        releases=("1.2.234.0", "1.2.677.0"),
    )
    cells = plan(load_adapters(), filters=filters)
    results = []
    for cell in cells:
        base = dict(
            id=cell.id,
            tool=cell.adapter.name,
            variant=cell.variant.id,
            scenario=cell.scenario.name,
            release=cell.release,
            duration_s=0.5,
            tool_duration_s=0.3,
        )
        if cell.not_applicable:
            results.append(CellResult(outcome="n/a", reason=cell.not_applicable, **base))
        elif cell.variant.id == "installed":
            reason = REASONS["requirement-missing"]
            results.append(
                CellResult(
                    outcome="skipped",
                    reason=reason.code,
                    explanation=reason.explanation,
                    remedy=reason.remedy,
                    **base,
                )
            )
        elif cell.scenario.name == "kms" and cell.variant.id in ("1.5.9", "1.33.2"):
            reason = REASONS["legacy-argv"]
            evidence_dir = f"evidence/{cell.id.replace('/', '__')}"
            results.append(
                CellResult(
                    outcome="fail",
                    reason=reason.code,
                    explanation=reason.explanation,
                    remedy=reason.remedy,
                    detail="argc 4",
                    evidence={"plugin_record": f"{evidence_dir}/plugin-record.jsonl"},
                    **base,
                )
            )
        else:
            results.append(CellResult(outcome="pass", **base))
    return matrix.build(cells, results, started=1000.0, finished=1010.0, jobs=2, timeout=60)


@pytest.fixture
def built() -> dict[str, Any]:
    return built_document()


def flipped(document: dict[str, Any], index: int, outcome: str = "fail") -> dict[str, Any]:
    """A copy with one cell's outcome changed (summary kept consistent)."""
    copy_ = copy.deepcopy(document)
    cell = copy_["cells"][index]
    copy_["summary"][cell["outcome"]] -= 1
    copy_["summary"][outcome] += 1
    reason = REASONS["target-mismatch"]
    cell.update(
        outcome=outcome,
        reason=reason.code,
        explanation=reason.explanation,
        remedy=reason.remedy,
        warnings=[],
    )
    return copy_
