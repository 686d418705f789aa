"""Keep a cell's evidence under the report directory, masked so that a rerun writes the same bytes.

The files kept, in ``evidence/<cell_dirname>/`` (``compat.evidence.names``), and what varies
in each (masked by :class:`compat.evidence.mask.Masker`):

- ``plugin-record.jsonl``: the fake plugin's start and end lines: argv (session id, stream URL
  port, target ids, sandbox path), env (ports, paths, access key), pid, times;
- ``transcript-N.json``: the agent's account of session N (``N`` in the order the cell's
  sessions opened, not the session id): target, key ids, client and request ids, times; the
  messages themselves, :data:`TIMING_EVENTS`, the plugin's :data:`TIMING_FLAGS` and repeated
  terminal sizes are left out (they follow how output was chunked and when input arrived, not
  what the tool did), and the session's parameters are sorted by name (a Go tool sends its
  map in random order);
- ``replay.json``: a replay's API calls, with the session id it got;
- ``tool-stdout.txt``, ``tool-stderr.txt``: what the tool printed (session ids, targets);
- ``verdict.json``: the verdict (reason, detail) and what it quotes that no other file holds
  (:func:`verdict_facts`): how the tool ended and whether the kit stopped it, the hosts the
  proxy refused, the operations the fake AWS could not answer, the ResumeSession calls and
  their refusals. Written last, so the other files' placeholders number first.

Nothing volatile is kept raw: what the verdict needed is in ``matrix.json``, and the cell's
scratch directory (deleted after the run) has the unmasked files while it runs.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compat.evidence.mask import Masker, host_paths
from compat.evidence.names import cell_dirname

if TYPE_CHECKING:
    from compat.verdict.rules import Evidence, Verdict

__all__ = [
    "MAX_EVIDENCE",
    "TIMING_EVENTS",
    "TIMING_FLAGS",
    "cell_masker",
    "keep_evidence",
    "verdict_facts",
]

#: Agent decisions that depend on timing alone (input that arrived before the shell was ready).
TIMING_EVENTS = frozenset({"handler-not-ready"})
#: Flags the plugin sends or not as timing decides: DISCONNECT_TO_PORT follows the kit's probe
#: closing its connection, and the kit stops the plugin right after that round trip.
TIMING_FLAGS = frozenset({"DISCONNECT_TO_PORT"})
#: Largest evidence file kept under the report directory (head and tail are kept).
MAX_EVIDENCE = 16 * 1024


def _truncated(data: bytes) -> bytes:
    if len(data) <= MAX_EVIDENCE:
        return data
    half = MAX_EVIDENCE // 2
    cut = len(data) - 2 * half
    return data[:half] + f"\n[... {cut} bytes cut by smp-compat ...]\n".encode() + data[-half:]


def _masked_lines(text: str, masker: Masker) -> str:
    """A JSON-lines file masked line by line (a line that is not JSON as text)."""
    lines = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            lines.append(masker.text(line))
        else:
            lines.append(json.dumps(masker.json(value), ensure_ascii=False))
    return "\n".join(lines) + "\n" if lines else ""


def _steady(decisions: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The agent's decisions without those timing alone decides: :data:`TIMING_EVENTS`, and a
    terminal size the same as the last one (the plugin resends it; how often depends on when
    its ticker fires, e.g. around a reconnect)."""
    kept: list[Mapping[str, Any]] = []
    size: object = None
    for decision in decisions:
        event = decision.get("event")
        if event in TIMING_EVENTS:
            continue
        if event == "client-flag" and decision.get("name") in TIMING_FLAGS:
            continue
        if event == "size":
            if decision.get("size") == size:
                continue
            size = decision.get("size")
        kept.append(decision)
    return kept


def _sorted_parameters(session: Any) -> Any:
    """The session with its document parameters in name order (their order is the tool's
    map's, random in Go), everything else as it was."""
    if not isinstance(session, Mapping) or not isinstance(session.get("parameters"), Mapping):
        return session
    return {**session, "parameters": dict(sorted(session["parameters"].items()))}


def _dump(value: Any) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False) + "\n"


def keep_evidence(
    out_dir: Path,
    cell_id: str,
    masker: Masker,
    *,
    record: Path | None,
    transcripts: Mapping[str, Mapping[str, Any]] = {},
    calls: list[dict[str, Any]] | None = None,
    argv: list[str] | None = None,
    stdout: Path | None = None,
    stderr: Path | None = None,
    verdict: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Write the cell's evidence under ``out_dir/evidence/``; name -> path relative to
    ``out_dir``. Files are masked in a fixed order, so placeholders number the same way."""
    rel = Path("evidence") / cell_dirname(cell_id)
    dest = out_dir / rel
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    paths: dict[str, str] = {}

    def put(kind: str, name: str, text: str) -> None:
        (dest / name).write_bytes(_truncated(text.encode("utf-8", "surrogateescape")))
        paths.setdefault(kind, str(rel / name))

    if record is not None and record.exists() and record.stat().st_size:
        text = record.read_text(encoding="utf-8", errors="surrogateescape")
        put("plugin_record", "plugin-record.jsonl", _masked_lines(text, masker))
    for number, transcript in enumerate(transcripts.values(), start=1):
        # The messages (and their count) follow how the tool's output was chunked.
        compact = {k: v for k, v in transcript.items() if k != "messages"}
        compact["decisions"] = _steady(compact.get("decisions") or ())
        if "session" in compact:
            compact["session"] = _sorted_parameters(compact["session"])
        put("transcript", f"transcript-{number}.json", _dump(masker.json(compact)))
    if calls is not None:
        shown = {"argv_len": len(argv or ()), "calls": masker.json(calls)}
        put("replay", "replay.json", _dump(shown))
    for kind, source in (("tool_stdout", stdout), ("tool_stderr", stderr)):
        if source is not None and source.exists() and source.stat().st_size:
            text = source.read_text(encoding="utf-8", errors="surrogateescape")
            put(kind, source.name, masker.text(text))
    if verdict is not None:
        put("verdict", "verdict.json", _dump(masker.json(verdict)))
    return paths


def verdict_facts(verdict: Verdict, evidence: Evidence) -> dict[str, Any]:
    """The verdict and the facts its reasons quote that only the kit saw (``verdict.json``).

    A reader of the evidence folder sees why without matrix.json: ``plugin-not-called`` and
    ``tool-failed`` quote the tool's exit, ``timeout`` the kit's stop, ``endpoint-ignored`` the
    refused hosts, ``fake-aws-unsupported`` the operations, ``resume-failed`` the ResumeSession
    calls, ``inconclusive`` a SIGKILL. Only what does not follow timing: each distinct
    ResumeSession answer once (the plugin retries as long as the cell lets it), no times.
    """
    calls: list[dict[str, Any]] = []
    for call in evidence.resume_calls:
        seen = {
            "endpoint": call.get("endpoint"),
            "answered": bool(call.get("token_value")),
            "error": call.get("error"),
        }
        if seen not in calls:
            calls.append(seen)
    stopped = evidence.timed_out or bool(evidence.port_roundtrip)
    return {
        "outcome": str(verdict.outcome),
        "reason": verdict.reason,
        "detail": verdict.detail,
        "warnings": list(verdict.warnings),
        "tool": {
            "exit_code": evidence.tool_exit,
            # The kit ends what still runs: after the port round trip, or at the timeout.
            "stopped_by_kit": stopped,
            "timed_out": evidence.timed_out,
            "sigkill_needed": evidence.records_incomplete,
            "error_line": evidence.tool_stderr_tail,
        },
        "port_roundtrip": evidence.port_roundtrip,
        "refused_hosts": sorted(set(evidence.refused_hosts)),
        "unsupported_operations": list(evidence.unsupported),
        "resume_calls": calls,
    }


#: Length of the short task id tools print beside the whole one.
_SHORT_ID = 8
#: Template values (``compat.runner.prepare``) the fake AWS makes up per cell, and their mark.
_SEEDED_VALUES = ("task_id", "runtime_id", "task_family", "service", "instance_id", "local_port")


def cell_masker(
    values: Mapping[str, str | None],
    *,
    extra: Mapping[str, str],
    sandbox: Path,
    work: Path,
    cluster_made_up: bool,
    sessions: Iterable[str],
) -> Masker:
    """The masker of one cell: its seeded ids (``values``, the adapter placeholders; the
    cluster only when the fake AWS named it), its credentials and shell marker (``extra``:
    placeholder name -> value), its directories, the kit's virtualenv and tool cache, its
    session ids."""
    names = [*_SEEDED_VALUES, *(["cluster"] if cluster_made_up else [])]
    known = {str(values[n]): f"<{n}>" for n in names if values.get(n)}
    task_id = str(values.get("task_id") or "")
    if len(task_id) > _SHORT_ID:
        # Tools show a task by its first 8 hex digits too, as the ECS console does (copilot's
        # "Found only one running task 0123abcd"); only a standalone token is replaced.
        known[task_id[:_SHORT_ID]] = "<task_id:8>"
    known.update({value: f"<{name}>" for name, value in extra.items()})
    known.update({str(sandbox): "<sandbox>", str(work): "<work>", **host_paths()})
    return Masker(known, sessions)
