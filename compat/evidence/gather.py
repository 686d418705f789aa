"""Gather what a session left behind, under one deadline, into an ``Evidence``.

The evidence type is :class:`compat.verdict.rules.Evidence`.

Called once the tool is done (``compat.runner.process.run_process`` returns only when the
tool's whole process group has ended). What can still be owed then: the end line of a plugin
that runs outside that group or is still writing (a start line whose process is alive), and the
agent's transcript of every session the fake AWS opened for the sandbox's access key (the agent
writes it when the connection closes, in its own thread). Both are waited for with ONE deadline
(:data:`EVIDENCE_WAIT`), so no second constant can drift from the first.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compat.evidence.procs import alive
from compat.evidence.records import read_records, unfinished
from compat.verdict.rules import Evidence

if TYPE_CHECKING:
    from compat.fakeaws import FakeAWS
    from fake_plugin.record import PluginRecord

__all__ = [
    "EVIDENCE_WAIT",
    "collect",
    "error_line",
    "finished_records",
    "sessions_of",
    "tail_line",
]

#: Seconds, from the end of the tool, within which every record and transcript must be there.
EVIDENCE_WAIT = 5.0
_POLL = 0.02


def finished_records(record_file: Path, deadline: float) -> list[PluginRecord]:
    """The records, once no start is owed an end by a live process (or at ``deadline``)."""
    return _finished_records(record_file, deadline)[0]


def _finished_records(record_file: Path, deadline: float) -> tuple[list[PluginRecord], bool]:
    """The records, and whether every plugin they name has ended (False at ``deadline``)."""
    while True:
        records = read_records(record_file)
        owed = [r for r in records if unfinished(r) and alive(int(r.get("pid") or 0))]
        if not owed:
            return records, True
        if time.monotonic() >= deadline:
            return records, False
        time.sleep(_POLL)


def sessions_of(fake: FakeAWS, access_key_id: str) -> list[str]:
    """Session ids the fake AWS started for ``access_key_id``, oldest first."""
    specs = sorted(fake.registry, key=lambda s: s.started_at)
    return [s.session_id for s in specs if s.access_key_id == access_key_id]


def _transcripts(
    fake: FakeAWS, wanted: list[str], deadline: float, *, settled: bool
) -> dict[str, dict[str, Any]]:
    """The transcripts of ``wanted``; ``settled``: no plugin is left that could still resume a
    dropped session, so one waiting for its resumed connection is taken as it stands (a
    ``not-resumed`` transcript) at once instead of at the deadline."""
    found: dict[str, dict[str, Any]] = {}
    if fake.agent_url is None:
        return found
    for sid in dict.fromkeys(wanted):
        transcript = fake.wait_transcript(sid, timeout=0.0) if settled else None
        if transcript is None:
            transcript = fake.wait_transcript(sid, timeout=max(0.0, deadline - time.monotonic()))
        if transcript is not None:
            found[sid] = transcript
    return found


def tail_line(text: str) -> str:
    """The last non-empty line of ``text``, cut to 200 characters (the verdict's detail)."""
    lines = text.strip().splitlines()
    return lines[-1][:200] if lines else ""


#: Words that mark a line of a tool's output as its error (case-insensitive).
_ERROR_WORDS = re.compile(
    r"error|exception|fail|denied|invalid|not found|no such|cannot|can't|unable|missing"
    r"|traceback|refused|expired|not authorized|usage:",
    re.IGNORECASE,
)


def error_line(stdout: str, stderr: str) -> str:
    """The line that says what went wrong, for a verdict's detail: the last line of stderr,
    else of stdout, that reads like an error (many tools print errors on stdout, e.g. rich's
    console); without one, the last non-empty line of stderr, then of stdout."""
    for text in (stderr, stdout):
        for line in reversed(text.strip().splitlines()):
            if _ERROR_WORDS.search(line):
                return line.strip()[:200]
    return tail_line(stderr) or tail_line(stdout)


def collect(
    fake: FakeAWS,
    record_file: Path,
    access_key_id: str,
    *,
    tool_exit: int | None,
    timed_out: bool = False,
    port_roundtrip: bool | None = None,
    tool_stderr_tail: str = "",
    killed: bool = False,
    harness_error: str | None = None,
    wait: float = EVIDENCE_WAIT,
) -> Evidence:
    """The evidence of one sandbox: its records, the transcripts of its key's sessions (also
    those a real plugin's record cannot name), the proxy's refusals for its key, the tool's end.

    ``killed``: a process of the tool's group had to be SIGKILLed, so a start may be missing.
    ``harness_error``: something outside the tool ended it; the verdict is ``harness-error``.
    """
    deadline = time.monotonic() + wait
    records, settled = _finished_records(record_file, deadline)
    sessions = sessions_of(fake, access_key_id)
    parsed_ids = [p.get("session_id") for r in records if (p := r.get("parsed"))]
    wanted = [str(sid) for sid in parsed_ids if sid] + sessions
    transcripts = _transcripts(fake, wanted, deadline, settled=settled)
    # Only an AWS host reached around the endpoint override judges the cell: the cell's port
    # also names its other refusals (a CA it does not trust, a non-AWS host), which do not.
    refusals = fake.proxy.refusals(access_key_id) if fake.proxy_url else []
    refused = [r.host for r in refusals if r.reason == "endpoint-ignored"]
    return Evidence(
        records=records,
        transcripts=transcripts,
        refused_hosts=refused,
        tool_exit=tool_exit,
        timed_out=timed_out,
        port_roundtrip=port_roundtrip,
        tool_stderr_tail=tool_stderr_tail,
        sessions=sessions,
        records_incomplete=killed,
        resume_calls=fake.registry.resume_calls(access_key_id),
        unsupported=fake.registry.unsupported(access_key_id),
        harness_error=harness_error,
    )
