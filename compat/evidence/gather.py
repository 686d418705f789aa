"""Gather what a session left behind, under one deadline, into :class:`compat.verdict.Evidence`.

Called once the tool is done (``compat.runner.process.run_process`` returns only when the
tool's whole process group has ended). What can still be owed then: the end line of a plugin
that runs outside that group or is still writing (a start line whose process is alive), and the
agent's transcript of every session the fake AWS opened for the sandbox's access key (the agent
writes it when the connection closes, in its own thread). Both are waited for with ONE deadline
(:data:`EVIDENCE_WAIT`), so no second constant can drift from the first.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compat.evidence.procs import alive
from compat.evidence.records import read_records, unfinished
from compat.verdict import Evidence

if TYPE_CHECKING:
    from compat.fakeaws import FakeAWS

__all__ = ["EVIDENCE_WAIT", "collect", "finished_records", "sessions_of", "tail_line"]

#: Seconds, from the end of the tool, within which every record and transcript must be there.
EVIDENCE_WAIT = 5.0
_POLL = 0.02


def finished_records(record_file: Path, deadline: float) -> list[dict[str, Any]]:
    """The records, once no start is owed an end by a live process (or at ``deadline``)."""
    while True:
        records = read_records(record_file)
        owed = [r for r in records if unfinished(r) and alive(int(r.get("pid") or 0))]
        if not owed or time.monotonic() >= deadline:
            return records
        time.sleep(_POLL)


def sessions_of(fake: FakeAWS, access_key_id: str) -> list[str]:
    """Session ids the fake AWS started for ``access_key_id``, oldest first."""
    specs = sorted(fake.registry, key=lambda s: s.started_at)
    return [s.session_id for s in specs if s.access_key_id == access_key_id]


def _transcripts(fake: FakeAWS, wanted: list[str], deadline: float) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    if fake.agent_url is None:
        return found
    for sid in dict.fromkeys(wanted):
        transcript = fake.wait_transcript(sid, timeout=max(0.0, deadline - time.monotonic()))
        if transcript is not None:
            found[sid] = transcript
    return found


def tail_line(text: str) -> str:
    """The last non-empty line of ``text``, cut to 200 characters (the verdict's detail)."""
    lines = text.strip().splitlines()
    return lines[-1][:200] if lines else ""


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
    wait: float = EVIDENCE_WAIT,
) -> Evidence:
    """The evidence of one sandbox: its records, the transcripts of its key's sessions (also
    those a real plugin's record cannot name), the proxy's refusals for its key, the tool's end.

    ``killed``: a process of the tool's group had to be SIGKILLed, so a start may be missing.
    """
    deadline = time.monotonic() + wait
    records = finished_records(record_file, deadline)
    sessions = sessions_of(fake, access_key_id)
    parsed_ids = [str((r.get("parsed") or {}).get("session_id") or "") for r in records]
    wanted = [sid for sid in parsed_ids if sid] + sessions
    transcripts = _transcripts(fake, wanted, deadline)
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
    )
