"""``matrix.md``: the matrix as GitHub-flavoured Markdown, short enough for a README or summary.

The KMS answer first (:mod:`compat.report.headline`), then one table row per tool variant, one
column per scenario with a symbol per plugin release, a pass-rate row, then each failure reason
once, with the cells it hit and its fix, failures before warnings. Grouping by
reason (not by cell) is what keeps a 300-cell run to a screenful. Every string from matrix.json
goes through :mod:`compat.report.escape`, so on GitHub it reads as written and adds no markup.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from compat.report.escape import code as code_span
from compat.report.escape import inline, prose
from compat.report.headline import DEFINITION, kms_answer, sentence
from compat.report.model import SYMBOLS, Matrix, status_of
from compat.verdict import reasons

__all__ = ["SYMBOLS", "cell_text", "prose", "render", "where"]

_LABELS = {
    "pass": "pass", "warn": "pass with a warning", "fail": "fail", "error": "no verdict",
    "skipped": "not tried", "n/a": "does not apply",
}  # fmt: skip


def cell_text(cell: Mapping[str, Any] | None) -> str:
    """The symbol for one cell (a blank space where the plan had no cell)."""
    return SYMBOLS[status_of(cell)] if cell is not None else "·"


def render(
    document: Mapping[str, Any],
    *,
    title: str = "session-manager-plugin compatibility",
    level: int = 1,
) -> str:
    """The whole Markdown report; ``level`` is the heading level of its title (2 in summaries)."""
    matrix = Matrix(document)
    run = matrix.run
    h = "#" * level
    total = matrix.total()
    counts = " · ".join(
        f"{SYMBOLS[k]} {total.counts[k]} {_LABELS[k]}" for k in SYMBOLS if total.counts[k]
    )
    releases_by = {
        b.scenario["name"]: [str(c["release"]) for c in b.columns] for b in matrix.blocks
    }
    release_sets = {tuple(v) for v in releases_by.values()}
    lines = [f"{h} {inline(title)}", ""]
    answer = kms_answer(matrix)
    if answer is not None:
        lines += [sentence(answer, inline, code_span, lead=lambda t: f"**{t}**"), ""]
    lines += [
        f"{inline(run['finished_at'])} · {len(matrix.cells)} cells"
        f" · plugin {inline(run['plugin']['kind'])} · {counts}",
        "",
        "| tool | version | mode | "
        + " | ".join(inline(b.scenario["name"]) for b in matrix.blocks)
        + " |",
        "|---|---|---|" + ":-:|" * len(matrix.blocks),
    ]
    for row in matrix.rows:
        marks = [
            "".join(cell_text(matrix.cell(row["id"], c["id"])) for c in block.columns)
            for block in matrix.blocks
        ]
        check = matrix.replay_check(str(row["id"]))
        mode = str(row["mode"])
        if check is not None:
            mode += " ✓" if check["agree"] else " ≠"
        lines.append(
            f"| {inline(row['tool'])} | {inline(matrix.version_label(row))} "
            f"| {inline(mode)} | " + " | ".join(marks) + " |"
        )
    percents = []
    for block in matrix.blocks:
        passed = judged = 0
        for column in block.columns:
            tally = matrix.column_tally(column["id"])
            passed, judged = passed + tally.passed, judged + tally.judged
        percents.append(f"{passed * 100 // judged}%" if judged else "–")  # noqa: RUF001
    lines.append("| **passing** | | | " + " | ".join(percents) + " |")
    lines.append("")
    if len(release_sets) == 1:
        lines.append(
            "One symbol per plugin release, oldest first: "
            + inline(", ".join(next(iter(release_sets))))
            + "."
        )
    else:
        lines.append(
            "One symbol per plugin release, oldest first: "
            + "; ".join(inline(f"{name}: {', '.join(rels)}") for name, rels in releases_by.items())
            + "."
        )
    lines.append(
        "Legend: "
        + ", ".join(f"{SYMBOLS[k]} {_LABELS[k]}" for k in SYMBOLS)
        + ". *passing* counts passes among judged cells (skipped and n/a cells are left out)."
    )
    if answer is not None:
        lines += ["", inline(DEFINITION)]
    lines += _replay_checks(matrix)
    lines += _findings(matrix, ("fail", "error"), f"{h}# What fails, and how to fix it")
    lines += _warnings(matrix, f"{h}# Warnings (the session starts, but…)")
    lines += _skipped(matrix)
    return "\n".join(lines) + "\n"


def _replay_checks(matrix: Matrix) -> list[str]:
    """The note under the legend: which replays were checked against the real program."""
    notes = []
    for row in matrix.rows:
        check = matrix.replay_check(str(row["id"]))
        if check is None:
            continue
        name = f"{inline(row['tool'])} {inline(row['version'])}"
        if check["agree"]:
            notes.append(
                f"- ✓ {name}: checked against the real program ({inline(check['row'])}), "
                f"the same argv shape and verdict in {check['cells']} cells."
            )
        else:
            shown = "; ".join(inline(d) for d in check["disagreements"][:3])
            notes.append(
                f"- ≠ {name}: the real program ({inline(check['row'])}) disagrees: {shown}."
            )
    if not notes:
        return []
    return [
        "",
        "Replays (argv rebuilt from a release's source) beside the same release run for real:",
        *notes,
    ]


def where(matrix: Matrix, members: list[Mapping[str, Any]]) -> str:
    """``kms, kms-profile (1.2.234.0)``: a scenario alone when every release of it is hit."""
    by_scenario: dict[str, list[str]] = defaultdict(list)
    for cell in members:
        by_scenario[cell["scenario"]].append(str(cell["release"]))
    parts = []
    for block in matrix.blocks:
        name = block.scenario["name"]
        hit = by_scenario.get(name)
        if not hit:
            continue
        if len(hit) == len(block.columns):
            parts.append(name)
        else:
            parts.append(f"{name} ({', '.join(sorted(hit))})")
    return ", ".join(parts)


def _findings(matrix: Matrix, outcomes: tuple[str, ...], title: str) -> list[str]:
    groups: dict[str, dict[str, list[Mapping[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for cell in matrix.cells:
        if cell["outcome"] in outcomes:
            groups[str(cell.get("reason") or "unknown")][cell["row"]].append(cell)
    if not groups:
        return []
    lines = ["", title, ""]
    for code, by_row in sorted(groups.items(), key=_gravest_first):
        first = next(iter(by_row.values()))[0]
        symbol = SYMBOLS[status_of(first)]
        lines.append(f"- {symbol} **{code_span(code)}** — " + "; ".join(
            inline(f"{row}: {where(matrix, cells)}") for row, cells in by_row.items()
        ))  # fmt: skip
        if first.get("explanation"):
            lines.append(f"  - why: {prose(first['explanation'])}")
        if first.get("remedy"):
            lines.append(f"  - **fix:** {prose(first['remedy'])}")
        if first.get("detail"):
            lines.append(f"  - seen ({inline(first['id'])}): {inline(first['detail'])}")
    return lines


def _gravest_first(item: tuple[str, Mapping[str, list[Mapping[str, Any]]]]) -> tuple[int, int]:
    """Failures before cells without a verdict, then the reasons that hit most cells."""
    cells = [c for members in item[1].values() for c in members]
    return (0 if any(c["outcome"] == "fail" for c in cells) else 1, -len(cells))


def _warnings(matrix: Matrix, title: str) -> list[str]:
    groups: dict[str, dict[str, list[Mapping[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for cell in matrix.cells:
        for code in cell.get("warnings") or ():
            groups[code][cell["row"]].append(cell)
    if not groups:
        return []
    lines = ["", title, ""]
    for code, by_row in groups.items():
        lines.append(f"- {SYMBOLS['warn']} **{code_span(code)}** — " + "; ".join(
            inline(f"{row}: {where(matrix, cells)}") for row, cells in by_row.items()
        ))  # fmt: skip
        reason = reasons.REASONS.get(code)
        if reason is not None:
            lines.append(f"  - why: {prose(reason.explanation)}")
            lines.append(f"  - **fix:** {prose(reason.remedy)}")
    return lines


def _skipped(matrix: Matrix) -> list[str]:
    rows: dict[str, set[str]] = defaultdict(set)
    for cell in matrix.cells:
        if cell["outcome"] == "skipped":
            rows[str(cell.get("reason") or "skipped")].add(cell["row"])
    lines = []
    for code, ids in rows.items():
        reason = reasons.REASONS.get(code)
        why = f" — {prose(reason.explanation)}" if reason else ""
        listed = inline(", ".join(sorted(ids)))
        lines.append(f"{SYMBOLS['skipped']} Not tried ({code_span(code)}): {listed}{why}")
    return ["", *lines] if lines else []
