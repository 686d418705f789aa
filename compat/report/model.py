"""A read-only view of a matrix.json document: the grid, tallies and merged groups reports use.

The renderers never walk ``matrix.json`` themselves; they ask this view, so "what counts as a
pass", "which releases look the same" and "in which order columns appear" are decided once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fake_plugin.versions import version_key

__all__ = [
    "OUTCOMES",
    "STATUSES",
    "SYMBOLS",
    "Matrix",
    "Status",
    "Tally",
    "status_of",
]

#: Outcomes in the order reports list them (matrix.json ``summary`` keys).
OUTCOMES: tuple[str, ...] = ("pass", "fail", "error", "skipped", "n/a")

Cell = Mapping[str, Any]
#: What makes two cells look the same in the grid: outcome, reason and warnings (None: no cell).
Signature = tuple[str, str, tuple[str, ...]] | None


@dataclass(frozen=True)
class Status:
    """How one outcome is shown: a symbol that reads without colour (the page draws it on its
    colour), its mark in Markdown (``matrix.md``, PR comments), a label and its meaning."""

    key: str
    symbol: str
    label: str
    meaning: str
    mark: str


#: Display statuses: the five outcomes plus ``warn``, a pass that carries a warning. The symbols
#: are plain Unicode present in common fonts (no emoji), so they read in grey-scale and print.
STATUSES: Mapping[str, Status] = {
    s.key: s
    for s in (
        Status(
            "pass",
            "✓",
            "pass",
            "The session starts, with KMS encryption where the scenario asks.",
            "✅",
        ),
        # A pass: the page draws a green ✓ with a small "!", Markdown a ✅ with a "!".
        Status(
            "warn",
            "!",
            "pass, with a warning",
            "The session starts, but something is fragile.",
            "✅!",
        ),
        Status(
            "fail",
            "✗",
            "fail",
            "The session does not start; the cell says why and what to fix.",
            "❌",
        ),
        Status(
            "error",
            "?",
            "no verdict",
            "The kit could not judge this cell; never counted as a pass.",
            "💥",
        ),
        Status(
            "skipped",
            "○",
            "not tried",
            "The tool is not installed here, so the cell was not run.",
            "⏭️",
        ),
        Status(
            "n/a",
            "–",  # noqa: RUF001 - a symbol, not a minus sign
            "does not apply",
            "The scenario does not apply to this tool.",
            "➖",  # noqa: RUF001
        ),
    )
}
#: Status -> its Markdown mark (``matrix.md``, diffs, PR comments).
SYMBOLS: Mapping[str, str] = {key: status.mark for key, status in STATUSES.items()}


def status_of(cell: Cell) -> str:
    """The display status of a cell: its outcome, or ``warn`` for a pass with warnings."""
    outcome = str(cell["outcome"])
    if outcome == "pass" and cell.get("warnings"):
        return "warn"
    return outcome


def _signature(cell: Cell | None) -> Signature:
    if cell is None:
        return None
    return (str(cell["outcome"]), str(cell.get("reason") or ""), tuple(cell.get("warnings") or ()))


@dataclass
class Tally:
    """Counts for a set of cells. ``percent`` is passes among judged cells (pass/fail/error):
    skipped and n/a cells are unknown or irrelevant, so they neither help nor hurt it."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))

    def add(self, cell: Cell) -> None:
        self.counts[status_of(cell)] += 1

    @property
    def passed(self) -> int:
        return self.counts["pass"] + self.counts["warn"]

    @property
    def failing(self) -> int:
        return self.counts["fail"] + self.counts["error"]

    @property
    def judged(self) -> int:
        return self.passed + self.failing

    @property
    def percent(self) -> int | None:
        if not self.judged:
            return None
        # Floor, so that 99.6 % with one failure never shows as 100 %.
        return self.passed * 100 // self.judged


@dataclass(frozen=True)
class ScenarioBlock:
    """One scenario's columns, oldest release first, and runs of releases with equal results."""

    scenario: Mapping[str, Any]
    columns: list[Mapping[str, Any]]
    #: Consecutive column groups whose cells are identical in every row.
    groups: list[list[Mapping[str, Any]]]


class Matrix:
    """The grid of a matrix.json document, indexed for rendering."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.run: Mapping[str, Any] = document["run"]
        self.rows: list[Mapping[str, Any]] = list(document["rows"])
        self.cells: list[Cell] = list(document["cells"])
        self._by_key: dict[tuple[str, str], Cell] = {(c["row"], c["column"]): c for c in self.cells}
        self._versions = Counter(
            (str(r["tool"]), str(r["version"]), str(r["mode"])) for r in self.rows
        )
        self._rows_by_tool: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for row in self.rows:
            self._rows_by_tool[str(row["tool"])].append(row)
        self.blocks: list[ScenarioBlock] = self._blocks(document)
        #: Columns in display order (scenario by scenario, releases oldest first).
        self.columns: list[Mapping[str, Any]] = [c for b in self.blocks for c in b.columns]

    def version_label(self, row: Mapping[str, Any]) -> str:
        """The row's version, plus its variant id where another variant of the tool in the
        same mode shares the version (AWS CLI v1's ``ecs-exec`` and ``ssm-session`` are both
        ``1.x``); a replay and its run twin are told apart by their mode."""
        version = str(row["version"])
        twins = self._versions[(str(row["tool"]), version, str(row["mode"]))]
        return f"{version} · {row['variant']}" if twins > 1 else version

    def tool_rows(self, tool: str) -> list[Mapping[str, Any]]:
        """The rows of one tool, in document order."""
        return self._rows_by_tool.get(tool, [])

    def replay_check(self, row_id: str) -> Mapping[str, Any] | None:
        """How a replay row compared with its run twin (``compat.verdict.agreement``), if it was."""
        checks: Mapping[str, Mapping[str, Any]] = self.document.get("replay_checks") or {}
        return checks.get(row_id)

    def cell(self, row_id: str, column_id: str) -> Cell | None:
        """The cell at ``row_id`` x ``column_id``, or None where the plan had none."""
        return self._by_key.get((row_id, column_id))

    def _blocks(self, document: Mapping[str, Any]) -> list[ScenarioBlock]:
        by_scenario: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for column in document["columns"]:
            by_scenario[column["scenario"]].append(column)
        known = {s["name"]: s for s in document.get("scenarios", ())}
        order = [s["name"] for s in document.get("scenarios", ()) if s["name"] in by_scenario]
        order += [name for name in by_scenario if name not in known]
        blocks = []
        for name in order:
            columns = sorted(by_scenario[name], key=lambda c: version_key(str(c["release"])))
            scenario = known.get(name) or {"name": name, "title": name, "why": ""}
            blocks.append(ScenarioBlock(scenario, columns, self._column_groups(columns)))
        return blocks

    def _column_groups(self, columns: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
        groups: list[list[Mapping[str, Any]]] = []
        previous: list[Signature] | None = None
        for column in columns:
            sig = [_signature(self.cell(r["id"], column["id"])) for r in self.rows]
            if groups and sig == previous:
                groups[-1].append(column)
            else:
                groups.append([column])
            previous = sig
        return groups

    def row_groups(self) -> list[list[Mapping[str, Any]]]:
        """Consecutive rows of the same tool whose cells are identical in every column (and,
        for replays, whose check against the real program says the same)."""
        groups: list[list[Mapping[str, Any]]] = []
        previous: tuple[str, list[Signature], object] | None = None
        for row in self.rows:
            check = self.replay_check(str(row["id"]))
            sig = (
                str(row["tool"]),
                [_signature(self.cell(row["id"], c["id"])) for c in self.columns],
                None if check is None else check["agree"],
            )
            if groups and sig == previous:
                groups[-1].append(row)
            else:
                groups.append([row])
            previous = sig
        return groups

    def column_tally(self, column_id: str) -> Tally:
        """Counts for one column (scenario x release) over every row."""
        tally = Tally()
        for row in self.rows:
            cell = self.cell(row["id"], column_id)
            if cell is not None:
                tally.add(cell)
        return tally

    def row_tally(self, row_id: str) -> Tally:
        """Counts for one row (tool variant) over every column."""
        tally = Tally()
        for column in self.columns:
            cell = self.cell(row_id, column["id"])
            if cell is not None:
                tally.add(cell)
        return tally

    def total(self) -> Tally:
        """Counts over the whole matrix."""
        tally = Tally()
        for cell in self.cells:
            tally.add(cell)
        return tally
