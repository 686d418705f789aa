"""Compare two matrices cell by cell: regressions, fixes, changed reasons, new and removed cells.

The Markdown goes into one sticky pull-request comment, so it starts with an HTML marker the
workflow finds the comment by, puts regressions first (they are never the part that gets cut),
and stays under a byte budget below GitHub's ~64 KB comment limit, saying how much it left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from compat.report.escape import code, inline, prose
from compat.report.model import SYMBOLS, status_of

__all__ = ["MARKER", "MARKER_PATTERN", "MAX_BYTES", "Change", "Diff", "compare", "render"]

#: The sticky comment's marker (``<!-- smp-compat -->``; a workflow may pass its own name).
MARKER = "smp-compat"
#: What a marker may be made of: it sits inside an HTML comment and a jq string.
MARKER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: Stay well under GitHub's 65,536-character comment limit.
MAX_BYTES = 60_000

Cell = Mapping[str, Any]
_URL = re.compile(r"https?://[^\s<>\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Change:
    """One cell that differs; ``before`` or ``after`` is None for new or removed cells."""

    key: tuple[str, str]
    before: Cell | None
    after: Cell | None


@dataclass
class Diff:
    """Changes by kind, each list in the head matrix's cell order."""

    regressions: list[Change] = field(default_factory=list)
    fixes: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    new: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    cells: int = 0

    @property
    def empty(self) -> bool:
        return not (self.regressions or self.fixes or self.changed or self.new or self.removed)


def _passes(cell: Cell) -> bool:
    return bool(cell["outcome"] == "pass")


def _fails(cell: Cell) -> bool:
    return cell["outcome"] in ("fail", "error")


def _same(a: Cell, b: Cell) -> bool:
    return (a["outcome"], a.get("reason"), list(a.get("warnings") or ())) == (
        b["outcome"],
        b.get("reason"),
        list(b.get("warnings") or ()),
    )


def compare(base: Mapping[str, Any], head: Mapping[str, Any]) -> Diff:
    """What changed from ``base`` to ``head`` (both valid matrix.json documents)."""
    before = {(c["row"], c["column"]): c for c in base["cells"]}
    after = {(c["row"], c["column"]): c for c in head["cells"]}
    diff = Diff(cells=len(after))
    for key, cell in after.items():
        old = before.get(key)
        if old is None:
            diff.new.append(Change(key, None, cell))
        elif _same(old, cell):
            continue
        elif _passes(old) and _fails(cell):
            diff.regressions.append(Change(key, old, cell))
        elif _fails(old) and _passes(cell):
            diff.fixes.append(Change(key, old, cell))
        else:
            diff.changed.append(Change(key, old, cell))
    diff.removed = [Change(k, c, None) for k, c in before.items() if k not in after]
    return diff


def _state(cell: Cell | None) -> str:
    if cell is None:
        return "—"
    reason = cell.get("reason") or ", ".join(cell.get("warnings") or ())
    state = f"{SYMBOLS[status_of(cell)]} {inline(cell['outcome'])}"
    return state + (f" {code(reason)}" if reason else "")


def _line(change: Change) -> str:
    row, column = change.key
    shown = change.after or change.before
    assert shown is not None
    fix = ""
    if change.after is not None and _fails(change.after) and change.after.get("remedy"):
        fix = prose(change.after["remedy"], cell=True)
    before, after = _state(change.before), _state(change.after)
    return f"| {inline(row)} | {inline(column)} | {before} | {after} | {fix} |"


def _title(diff: Diff) -> str:
    parts = [
        (len(diff.regressions), "regression", "regressions"),
        (len(diff.fixes), "fix", "fixes"),
        (len(diff.changed), "changed cell", "changed cells"),
        (len(diff.new), "new cell", "new cells"),
        (len(diff.removed), "removed cell", "removed cells"),
    ]
    said = [f"{n} {one if n == 1 else many}" for n, one, many in parts if n]
    return ", ".join(said)


def _link(link: str) -> str:
    """The run's URL as an autolink when it is a plain http(s) URL, else as inert text."""
    return f"<{link}>" if _URL.fullmatch(link) else inline(link)


def render(diff: Diff, *, marker: str = MARKER, max_bytes: int = MAX_BYTES, link: str = "") -> str:
    """The comment body: marker, a one-line verdict, then a table per kind of change.

    ``link`` (e.g. the run's summary URL) is where readers find the full matrix.
    """
    if not MARKER_PATTERN.fullmatch(marker):
        raise ValueError(f"marker {marker!r}: expected letters, digits, '.', '_' or '-'")
    head = [f"<!-- {marker} -->"]
    if diff.empty:
        head += [f"### ✅ smp-compat: no changes in {diff.cells} cells", ""]
        if link:
            head.append(f"Full matrix: {_link(link)}")
        return "\n".join(head) + "\n"
    icon = "❌" if diff.regressions else "ℹ️"  # noqa: RUF001
    head += [f"### {icon} smp-compat: {_title(diff)}", ""]
    if link:
        head += [f"Full matrix: {_link(link)}", ""]
    sections = [
        ("Regressions (passed, now fails)", diff.regressions),
        ("Fixes (failed, now passes)", diff.fixes),
        ("Changed (outcome, reason or warnings)", diff.changed),
        ("New cells", diff.new),
        ("Removed cells", diff.removed),
    ]
    parts = ["\n".join(head) + "\n"]
    used = len(parts[0].encode("utf-8"))
    budget = max_bytes - 200  # room for the "left out" line
    left_out = 0
    for title, changes in sections:
        if not changes:
            continue
        block = (
            f"\n#### {title}\n\n"
            "| tool/variant | scenario/release | before | after | fix |\n"
            "|---|---|---|---|---|\n"
        )
        size = len(block.encode("utf-8"))
        if left_out or used + size > budget:
            left_out += len(changes)
            continue
        parts.append(block)
        used += size
        for index, change in enumerate(changes):
            line = _line(change) + "\n"
            size = len(line.encode("utf-8"))
            if used + size > budget:
                left_out += len(changes) - index
                break
            parts.append(line)
            used += size
    if left_out:
        parts.append(f"\n*… and {left_out} more changes not shown; see the full matrix.*\n")
    return "".join(parts)
