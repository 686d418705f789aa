"""The cell result: the contract between the runner, the matrix and every report built on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict, cast

from compat.verdict.reasons import Outcome

__all__ = ["CellJson", "CellResult"]


class CellJson(TypedDict):
    """A :class:`CellResult` as JSON: the fields of a ``matrix.json`` cell but its place."""

    id: str
    tool: str
    variant: str
    scenario: str
    release: str
    outcome: str
    reason: str | None
    explanation: str
    remedy: str
    warnings: list[str]
    detail: str
    evidence: dict[str, str]
    duration_s: float
    tool_duration_s: float
    argv_shape: dict[str, Any] | None


@dataclass(frozen=True)
class CellResult:
    """One cell's verdict with its evidence."""

    id: str
    tool: str
    variant: str
    scenario: str
    release: str
    outcome: Outcome
    reason: str | None = None
    explanation: str = ""
    remedy: str = ""
    warnings: tuple[str, ...] = ()
    #: One line of what was seen (argv length, the agent's target, the refused host…).
    detail: str = ""
    #: Name -> path relative to the report directory (record, transcript, tool output…).
    evidence: dict[str, str] = field(default_factory=dict)
    #: Wall time of the whole cell (seed, sandbox, tool, verdict).
    duration_s: float = 0.0
    #: Wall time of the tool's own process (the rest is the kit's overhead).
    tool_duration_s: float = 0.0
    #: What of the plugin's argv a verdict depends on (``compat.verdict.agreement``);
    #: ``None`` when the
    #: plugin never started a session.
    argv_shape: dict[str, Any] | None = None
    #: Seconds per phase of the kit's work (``seed``, ``prepare``, ``tool``, ``collect``,
    #: ``judge``), for benchmarks/matrix.py; not part of matrix.json.
    phases: dict[str, float] = field(default_factory=dict, compare=False)

    def to_json(self) -> CellJson:
        data = asdict(self)
        data["outcome"] = str(self.outcome)
        del data["phases"]
        data["warnings"] = list(self.warnings)
        data["duration_s"] = round(self.duration_s, 3)
        data["tool_duration_s"] = round(self.tool_duration_s, 3)
        return cast(CellJson, data)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CellResult:
        values = dict(data)
        values["warnings"] = tuple(values.get("warnings") or ())
        values["outcome"] = Outcome(values["outcome"])
        return cls(**values)
