"""The answer a maintainer opens the report for: which tool versions start KMS-encrypted sessions.

Every report (page, ``matrix.md``, step summary) starts with the same sentence, built here
once so the formats cannot disagree. A *tool version* is one row of the grid. It **works** when
it was tried in at least one KMS scenario (the ``kms*`` scenarios) and every one of its KMS
cells that ran passed, with or without warnings, on every plugin release. It **fails** when any
of them failed; it has **no verdict** when none failed but one could not be judged; it was
**not tried** when none of them ran (tool not installed, or KMS does not apply). Only versions
that were tried are counted, and an unjudged cell is never a pass.

A replay and its run twin (``aws-gate 0.4.3`` rebuilt from source and installed from PyPI)
are one tool version: it is counted once, from the cells of both, so a twin that was not
tried (not installed here) leaves the judged one's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from compat.report.model import Matrix

__all__ = ["DEFINITION", "KmsAnswer", "Version", "kms_answer", "sentence"]

#: The rule above, in one sentence for readers of the reports.
DEFINITION = (
    "A tool version works when every KMS scenario cell it ran (kms*, on every plugin release) "
    "passed, warnings allowed; one failing cell makes it fail; cells that were not tried or "
    "could not be judged never count as passes."
)


def _is_kms(scenario: str) -> bool:
    return scenario == "kms" or scenario.startswith("kms-")


@dataclass(frozen=True)
class Version:
    """One row's KMS result: its label and, when it fails, each reason with where it hit."""

    row: str
    label: str
    #: ``(reason code, scenarios it hit)``; the scenarios are empty when it hit every KMS one.
    reasons: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class KmsAnswer:
    """The rows sorted into works, fails, no verdict and not tried."""

    works: tuple[Version, ...]
    fails: tuple[Version, ...]
    unjudged: tuple[Version, ...]
    untried: tuple[Version, ...]

    @property
    def tried(self) -> int:
        return len(self.works) + len(self.fails) + len(self.unjudged)


def kms_answer(matrix: Matrix) -> KmsAnswer | None:
    """The KMS answer for a matrix, or None when it has no KMS scenario."""
    kms = [b.scenario["name"] for b in matrix.blocks if _is_kms(str(b.scenario["name"]))]
    if not kms:
        return None
    columns = [c for c in matrix.columns if c["scenario"] in kms]
    sorted_rows: dict[str, list[Version]] = {
        k: [] for k in ("works", "fails", "unjudged", "untried")
    }
    # One entry per label: a replay and its run twin share it (Matrix.version_label).
    versions: dict[str, tuple[str, list[Mapping[str, Any]]]] = {}
    for row in matrix.rows:
        label = f"{row['tool']} {matrix.version_label(row)}"
        _, cells = versions.setdefault(label, (str(row["id"]), []))
        cells += [
            cell for column in columns if (cell := matrix.cell(row["id"], column["id"])) is not None
        ]
    for label, (row_id, cells) in versions.items():
        outcomes = {str(c["outcome"]) for c in cells}
        if "fail" in outcomes:
            failing = [c for c in cells if c["outcome"] == "fail"]
            sorted_rows["fails"].append(Version(row_id, label, _reasons(failing, kms)))
        elif "error" in outcomes:
            erring = [c for c in cells if c["outcome"] == "error"]
            sorted_rows["unjudged"].append(Version(row_id, label, _reasons(erring, kms)))
        elif "pass" in outcomes:
            sorted_rows["works"].append(Version(row_id, label))
        else:
            sorted_rows["untried"].append(Version(row_id, label))
    return KmsAnswer(**{k: tuple(v) for k, v in sorted_rows.items()})


def _reasons(
    cells: list[Mapping[str, Any]], kms: list[str]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    hit: dict[str, set[str]] = {}
    for cell in cells:
        hit.setdefault(str(cell.get("reason") or "unknown"), set()).add(str(cell["scenario"]))
    return tuple(
        (code, () if scenarios == set(kms) else tuple(s for s in kms if s in scenarios))
        for code, scenarios in hit.items()
    )


def sentence(
    answer: KmsAnswer,
    text: Callable[[str], str],
    code: Callable[[str], str],
    lead: Callable[[str], str] = str,
) -> str:
    """``KMS-encrypted sessions: N of M tool versions work; these fail: …`` in one format:
    ``text`` makes plain text safe for it, ``code`` makes a reason code a code span and
    ``lead`` emphasises the count (the clause before the first semicolon)."""

    def listed(versions: tuple[Version, ...]) -> str:
        items = []
        for version in versions:
            why = [
                code(reason) + (text(" in " + ", ".join(where)) if where else "")
                for reason, where in version.reasons
            ]
            items.append(text(version.label) + (f" ({'; '.join(why)})" if why else ""))
        return ", ".join(items)

    if not answer.tried:
        parts = [text("KMS-encrypted sessions: no tool version was tried")]
    else:
        parts = [
            text(
                f"KMS-encrypted sessions: {len(answer.works)} of {answer.tried} tool "
                f"{'version works' if answer.tried == 1 else 'versions work'}"
            )
        ]
    parts[0] = lead(parts[0])
    if answer.fails:
        parts.append(text("these fail: ") + listed(answer.fails))
    elif answer.tried:
        parts.append(text("none fails"))
    if answer.unjudged:
        parts.append(text("no verdict for: ") + listed(answer.unjudged))
    if answer.untried:
        parts.append(text("not tried: ") + listed(answer.untried))
    return "; ".join(parts) + "."
