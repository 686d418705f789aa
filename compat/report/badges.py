"""Per-tool badges: ``badges/<tool>.json`` for the shields.io endpoint and an offline SVG.

A badge answers "does the current version of this tool work?", so it counts only the tool's
*current* rows: the newest version run for real (``mode = "run"``) and judged, or else the
newest replayed version. Old replayed versions are history (their failures are why the
tool was fixed) and would pin a badge to red forever. Unknown is never passing: a cell without
a verdict counts as failing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compat.report.model import Matrix, Tally

__all__ = ["Badge", "badges", "current_rows", "write"]

#: Shields named colour -> its hex, so the offline SVG looks like the shields.io one.
_HEX = {"brightgreen": "#4c1", "yellowgreen": "#a4a61d", "red": "#e05d44", "lightgrey": "#9f9f9f"}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: File name stems stay well under NAME_MAX (255 bytes), ``.json``/``.svg`` included.
_MAX_STEM = 100


@dataclass(frozen=True)
class Badge:
    """One tool's badge; ``endpoint()`` is exactly the keys shields accepts."""

    tool: str
    label: str
    message: str
    color: str
    #: The row ids the badge speaks for (printed by the CLI; not in the JSON).
    rows: tuple[str, ...]

    def endpoint(self) -> dict[str, Any]:
        """The shields endpoint document: ``schemaVersion``, ``label``, ``message``, ``color``."""
        return {
            "schemaVersion": 1,
            "label": self.label,
            "message": self.message,
            "color": self.color,
        }

    @property
    def filename(self) -> str:
        """A file name stem safe on every file system and in a URL, short enough for any
        (a long tool name keeps its start and gets a hash of the whole for uniqueness)."""
        stem = _SAFE.sub("_", self.tool).strip("._") or "tool"
        if len(stem) > _MAX_STEM:
            digest = hashlib.sha256(self.tool.encode()).hexdigest()[:12]
            stem = f"{stem[: _MAX_STEM - 13]}-{digest}"
        return stem


def _version_key(version: str) -> tuple[int, ...]:
    """A tool's version label, not a plugin release (``fake_plugin.versions.version_key``):
    labels can be ranges (``1.4.0-1.33.2``) or prose (``1.x (PyPI)``), so every number counts."""
    numbers = re.findall(r"\d+", version)
    return tuple(int(n) for n in numbers) if numbers else (-1,)


def current_rows(matrix: Matrix, tool: str) -> list[Mapping[str, Any]]:
    """The rows a tool's badge speaks for (see the module docstring)."""
    rows = matrix.tool_rows(tool)
    judged = [r for r in rows if matrix.row_tally(r["id"]).judged]
    run = [r for r in judged if r["mode"] == "run"]
    current = run or judged
    if current:
        # Old releases run for real are history too (ecspresso 1.5.9 built from source).
        newest = max(_version_key(str(r["version"])) for r in current)
        return [r for r in current if _version_key(str(r["version"])) == newest]
    return rows


def _kind(rows: Sequence[Mapping[str, Any]]) -> str:
    kinds = {r.get("kind") for r in rows}
    return "KMS sessions" if kinds == {"ssm-session"} else "KMS exec"


def _badge(matrix: Matrix, tool: str) -> Badge:
    rows = current_rows(matrix, tool)
    tally = Tally()
    for row in rows:
        for column in matrix.columns:
            cell = matrix.cell(row["id"], column["id"])
            if cell is not None:
                tally.add(cell)
    ids = tuple(r["id"] for r in rows)
    kind = _kind(rows)
    if not tally.judged:
        return Badge(tool, tool, f"{kind}: not tested", "lightgrey", ids)
    if tally.failing:
        return Badge(tool, tool, f"{tally.failing}/{tally.judged} failing", "red", ids)
    if warned := tally.counts["warn"]:
        noun = "warning" if warned == 1 else "warnings"
        return Badge(tool, tool, f"{kind}: passing, {warned} {noun}", "yellowgreen", ids)
    return Badge(tool, tool, f"{kind}: passing", "brightgreen", ids)


def badges(document: Mapping[str, Any]) -> list[Badge]:
    """One badge per tool, in row order."""
    matrix = Matrix(document)
    tools = list(dict.fromkeys(str(r["tool"]) for r in matrix.rows))
    return [_badge(matrix, tool) for tool in tools]


def _svg(badge: Badge) -> str:
    import anybadge  # noqa: PLC0415 - offline: it measures text with its own width table

    svg: str = anybadge.Badge(
        badge.label, badge.message, default_color=_HEX[badge.color]
    ).badge_svg_text
    return svg


def write(document: Mapping[str, Any], out_dir: Path) -> list[Badge]:
    """Write ``<tool>.json`` and ``<tool>.svg`` for every tool into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    made = badges(document)
    for badge in made:
        (out_dir / f"{badge.filename}.json").write_text(
            json.dumps(badge.endpoint()) + "\n", "utf-8"
        )
        (out_dir / f"{badge.filename}.svg").write_text(_svg(badge), "utf-8")
    return made
