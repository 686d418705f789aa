"""The HTML report's prose: the KMS answer first, then what fails and how to fix it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from compat.report.headline import DEFINITION, kms_answer, sentence
from compat.report.html_text import CSS_NAME, SYMBOL, code_span, esc, prose
from compat.report.markdown import where
from compat.report.model import Matrix, status_of
from compat.verdict import reasons

__all__ = ["findings", "headline"]

#: Findings order: what breaks a session before what cannot be judged before what is fragile.
_GRAVITY = {"fail": 0, "error": 1, "warn": 2}


def _finding_status(code: str, cell: Mapping[str, Any]) -> str:
    """``fail`` or ``error`` where ``code`` is the cell's reason, else ``warn`` (a warning)."""
    return status_of(cell) if cell.get("reason") == code else "warn"


def _gravest_first(item: tuple[str, Mapping[str, list[Mapping[str, Any]]]]) -> tuple[int, int]:
    """Failures, then cells without a verdict, then warnings; most cells first within each."""
    code, by_row = item
    cells = [c for members in by_row.values() for c in members]
    gravity = min(_GRAVITY.get(_finding_status(code, c), 3) for c in cells)
    return (gravity, -len(cells))


def headline(matrix: Matrix) -> str:
    """The KMS answer as the page's first paragraph, with what "works" means under it."""
    answer = kms_answer(matrix)
    if answer is None:
        return ""
    state = "fails" if answer.fails or answer.unjudged or not answer.works else "works"
    text = sentence(answer, esc, code_span, lead=lambda count: f"<strong>{count}</strong>")
    definition = f'<p class="definition">{esc(DEFINITION)}</p>'
    return f'<p class="answer {state}" id="answer">{text}</p>{definition}'


def findings(matrix: Matrix) -> str:
    groups: dict[str, dict[str, list[Mapping[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for cell in matrix.cells:
        if cell["outcome"] in ("fail", "error"):
            groups[str(cell.get("reason") or "unknown")][cell["row"]].append(cell)
        for code in cell.get("warnings") or ():
            groups[code][cell["row"]].append(cell)
    parts = ['<section class="findings"><h2 id="findings">What fails, and how to fix it</h2>']
    if not groups:
        parts.append("<p>Nothing fails.</p>")
    else:
        parts.append("<ul>")
        for code, by_row in sorted(groups.items(), key=_gravest_first):
            first = next(iter(by_row.values()))[0]
            reason = reasons.REASONS.get(code)
            key = _finding_status(code, first)
            explanation = (
                first.get("explanation")
                if key != "warn"
                else (reason.explanation if reason else "")
            )
            remedy = first.get("remedy") if key != "warn" else (reason.remedy if reason else "")
            hits = "; ".join(f"{row}: {where(matrix, cells)}" for row, cells in by_row.items())
            parts.append(
                f'<li><span class="sym s-{CSS_NAME[key]}" aria-hidden="true">'
                f"{esc(SYMBOL[key])}</span> "
                f"{code_span(code)} — {esc(hits)}<br>{prose(explanation or '')}"
                f'<br><span class="fix">Fix: {prose(remedy or "")}</span></li>'
            )
        parts.append("</ul>")
    parts.append('<h2 id="scenarios">Scenarios</h2><dl>')
    for block in matrix.blocks:
        scenario = block.scenario
        parts.append(
            f"<dt><code>{esc(scenario['name'])}</code> — {esc(scenario.get('title', ''))}</dt>"
            f"<dd>{esc(scenario.get('why', ''))}</dd>"
        )
    parts.append("</dl></section>")
    return "".join(parts)
