"""The observe stage: how the tool ended, and the evidence gathered (records, transcripts).

One way for a matrix cell and the pytest harness: both read the tool's output for the line that
says what went wrong and hand the same facts to :func:`compat.evidence.collect`, which waits
for the records and transcripts still owed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from compat.evidence import collect, error_line

if TYPE_CHECKING:
    from compat.fakeaws import FakeAWS
    from compat.runner.process import Finished
    from compat.verdict.rules import Evidence

__all__ = ["ToolEnd", "observe", "tool_output"]


@dataclass(frozen=True)
class ToolEnd:
    """How the tool ended, as the verdict reads it."""

    exit_code: int | None = None
    timed_out: bool = False
    #: ``None`` without a port probe; else whether the marker came back.
    port_roundtrip: bool | None = None
    #: The line of its output that says what went wrong (:func:`compat.evidence.error_line`).
    error_line: str = ""
    #: A process had to be SIGKILLed: a start may be missing from the records.
    killed: bool = False
    #: Something outside the tool ended it (``Finished.harness_error``): no verdict on the tool.
    harness_error: str | None = None

    @classmethod
    def of(cls, finished: Finished, stdout: str, stderr: str) -> ToolEnd:
        return cls(
            finished.exit_code,
            finished.timed_out,
            finished.port_roundtrip,
            error_line(stdout, stderr),
            finished.killed,
            finished.harness_error,
        )


def tool_output(stdout: Path, stderr: Path) -> tuple[str, str]:
    """What the tool printed, as text (undecodable bytes replaced)."""
    return (
        stdout.read_text(encoding="utf-8", errors="replace"),
        stderr.read_text(encoding="utf-8", errors="replace"),
    )


def observe(fake: FakeAWS, record_file: Path, access_key_id: str, end: ToolEnd) -> Evidence:
    """The session's evidence once the tool has ended as ``end`` says."""
    return collect(
        fake,
        record_file,
        access_key_id,
        tool_exit=end.exit_code,
        timed_out=end.timed_out,
        port_roundtrip=end.port_roundtrip,
        tool_stderr_tail=end.error_line,
        killed=end.killed,
        harness_error=end.harness_error,
    )
