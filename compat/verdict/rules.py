"""Evidence -> verdict: a cell's outcome, reason and warnings, read only from what was observed.

What a cell observed: the plugin starts recorded by the shim, the fake agent's transcript of the
session, the proxy's refusals for the cell's key, and the tool's own exit. What the scenario set
up (KMS demanded, the user's profile and region, the target the agent serves) says what to look
for, never what the answer is: there is no table of expected verdicts.
Anything the evidence cannot prove is ``error``/``inconclusive``, never ``pass``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from compat.agent import transcript as transcripts
from compat.agent.errors import TranscriptVersionError
from compat.verdict import reasons
from compat.verdict.reasons import Outcome, ReasonCode
from compat.verdict.reconnect import (
    refused_hosts,
    resume_detail,
    resumed,
    settle_endpoint_warnings,
)

if TYPE_CHECKING:
    from fake_plugin.record import PluginRecord

__all__ = [
    "Evidence",
    "Setup",
    "Verdict",
    "is_probe",
    "judge",
    "session_starts",
    "settle_endpoint_warnings",
]
#: Texts of the plugin's "old CLI" refusal (docs/plugin.md §2.1): both releases' wordings.
_LEGACY_MARKERS = ("does not support Session Manager encryption feature",)
_CREDENTIAL_MARKERS = (
    "NoCredentialProviders",
    "SharedConfigProfileNotExist",
    "failed to get shared config profile",
    "no valid providers in chain",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
)


@dataclass(frozen=True)
class Setup:
    """What the cell's scenario and seed arranged (the question, not the answer)."""

    kms: bool
    session: str  # "shell" | "port-forward"
    region: str
    user_profile: str | None
    #: URLs the kit configured as the SSM endpoint (the fake endpoint): argv[6] may name them.
    ssm_endpoints: tuple[str, ...] = ()
    #: The agent dropped the websocket once (the ``reconnect`` scenario): the session must
    #: resume, and argv[6] is judged by what happened rather than by its shape.
    reconnect: bool = False


@dataclass
class Evidence:
    """Everything one cell observed."""

    records: Sequence[PluginRecord] = ()
    #: Session id -> the agent's transcript (only sessions the plugin started).
    transcripts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Hosts the proxy refused for the cell's key (``endpoint-ignored``).
    refused_hosts: Sequence[str] = ()
    tool_exit: int | None = None
    timed_out: bool = False
    #: For port-forward: bytes sent to the local port came back (the agent echoes).
    port_roundtrip: bool | None = None
    #: The line of the tool's output that says what went wrong (``evidence.error_line``).
    tool_stderr_tail: str = ""
    #: The kit failed before the tool could be judged (seed, replay call); the message.
    harness_error: str | None = None
    #: Session ids the fake AWS started for the cell's key, oldest first (a real plugin's
    #: record has no parsed session id; these attribute its session to the cell).
    sessions: Sequence[str] = ()
    #: The ResumeSession calls the fake AWS saw for the cell's session, oldest first, each
    #: ``{"endpoint", "token_value", "error"}`` (``compat.agent.sessions.ResumeCall``).
    resume_calls: Sequence[Mapping[str, Any]] = ()
    #: A process of the tool's group had to be SIGKILLed, so a plugin start may have gone
    #: unrecorded: no start is then no proof that the plugin was not called.
    records_incomplete: bool = False
    #: Operations (``service:Operation``) the fake AWS answered "unknown operation" for the
    #: cell's key: a tool that stops on one is blocked by the kit, not at fault.
    unsupported: Sequence[str] = ()


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: ReasonCode | None
    explanation: str
    remedy: str
    warnings: tuple[str, ...] = ()
    detail: str = ""


def _verdict(code: ReasonCode, detail: str = "", warnings: Sequence[str] = ()) -> Verdict:
    reason = reasons.get(code)
    return Verdict(reason.outcome, code, reason.explanation, reason.remedy, tuple(warnings), detail)


def _pass(warnings: Sequence[str], detail: str) -> Verdict:
    return Verdict(
        Outcome.PASS, None, "A session started and completed.", "", tuple(warnings), detail
    )


def is_probe(record: Mapping[str, Any]) -> bool:
    """A caller's probe, not a session attempt: the plugin run bare (the AWS CLI's install
    check; it prints the install text) or with ``--version`` alone (docs/plugin.md §1.1).

    Read from argv, so a real binary's record (no ``branch``) is told the same way.
    """
    argv = record.get("argv") or []
    return len(argv) <= 1 or (len(argv) == 2 and argv[1] == "--version")


def session_starts(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The records that are session attempts (every record but the probes), oldest first."""
    return [r for r in records if not is_probe(r)]


def _is_ssm_endpoint(value: str, setup: Setup) -> bool:
    if value.rstrip("/") in {e.rstrip("/") for e in setup.ssm_endpoints}:
        return True
    host = urlsplit(value).hostname or ""
    return host.startswith("ssm.") and (
        host.endswith(".amazonaws.com") or ".amazonaws.com." in host
    )


def _warnings(start: Mapping[str, Any], setup: Setup) -> list[str]:
    argv = list(start.get("argv") or [])
    found: list[str] = []
    if len(argv) >= 7 and not setup.reconnect and not _is_ssm_endpoint(str(argv[6]), setup):
        found.append("endpoint-not-ssm")
    if len(argv) >= 5 and argv[4] == "default" and setup.user_profile is None:
        found.append("profile-hardcoded-default")
    return found


def _text(start: Mapping[str, Any], transcript: Mapping[str, Any] | None) -> str:
    parts = [str(start.get("stdout") or ""), str(start.get("stderr") or "")]
    if transcript is not None:
        parts.append(str(transcript.get("closing_output") or ""))
    return "\n".join(parts)


def _fields(start: Mapping[str, Any], sessions: Sequence[str]) -> dict[str, Any]:
    """What the plugin understood: the fake's ``parsed``, or for a real binary (whose wrapper
    records only argv) the same fields read from argv, and the cell's last session."""
    parsed = start.get("parsed")
    if parsed:
        return dict(parsed)
    argv = [str(a) for a in start.get("argv") or []]
    fields: dict[str, Any] = {"legacy_cli": len(argv) == 4}
    if len(argv) > 2:
        fields["region"] = argv[2]
    if len(argv) > 4:
        fields["profile"] = argv[4]
    if len(argv) > 5:
        try:
            value = json.loads(argv[5]).get("Target")
        except (ValueError, AttributeError):
            value = None
        fields["target"] = value if isinstance(value, str) else None
    if sessions:
        fields["session_id"] = sessions[-1]
    return fields


def _agent_target(transcript: Mapping[str, Any]) -> str | None:
    for decision in transcript.get("decisions", []):
        if decision.get("event") == "kms-decrypt":
            context = decision.get("encryption_context") or {}
            value = context.get("aws:ssm:TargetId")
            return None if value is None else str(value)
    session = transcript.get("session") or {}
    value = session.get("target")
    return None if value is None else str(value)


def _agent_fault(evidence: Evidence) -> str | None:
    """What broke the kit's side of a session: a transcript this kit cannot read, or a fault
    of the fake agent in one of the cell's sessions (then no verdict on the tool is proven)."""
    for sid, data in evidence.transcripts.items():
        try:
            transcript = transcripts.check(data, f"transcript of {sid}")
        except TranscriptVersionError as exc:
            return str(exc)
        fault = transcripts.first_fault(transcript)
        if fault is not None:
            return f"fake agent fault in session {sid}: {fault}"
    return None


def judge(evidence: Evidence, setup: Setup) -> Verdict:
    """The cell's verdict from ``evidence``; see the module docstring."""
    kit_fault = evidence.harness_error or _agent_fault(evidence)
    if kit_fault is not None:
        return _verdict("harness-error", kit_fault)
    starts = session_starts(evidence.records)
    refused = refused_hosts(evidence, setup, starts)
    if refused:
        hosts = ", ".join(sorted(set(refused)))
        return _verdict("endpoint-ignored", f"refused: {hosts}")
    if not starts:
        return _without_plugin(evidence)
    start = starts[-1]
    warnings = _warnings(start, setup)
    branch = str(start.get("branch"))
    parsed = _fields(start, evidence.sessions)
    failed = _plugin_failed(start, branch, warnings)
    if failed is not None:
        return failed
    sid = parsed.get("session_id")
    if not sid:
        return _verdict("inconclusive", f"plugin branch {branch} without a session", warnings)
    transcript = evidence.transcripts.get(str(sid))
    if setup.reconnect and transcript is not None and not resumed(transcript):
        return _verdict("resume-failed", resume_detail(start, evidence), warnings)
    if evidence.timed_out and setup.session != "port-forward":
        return _timed_out(f"session {sid}", transcript, warnings)
    if transcript is None:
        return _verdict("inconclusive", f"the agent wrote no transcript for {sid}", warnings)
    return _from_transcript(evidence, setup, start, parsed, transcript, warnings)


def _without_plugin(evidence: Evidence) -> Verdict:
    """No plugin start was recorded: why the tool never got that far."""
    if evidence.unsupported:
        detail = f"{', '.join(evidence.unsupported)}; tool exit {evidence.tool_exit}"
        if evidence.tool_stderr_tail:
            detail += f": {evidence.tool_stderr_tail}"
        return _verdict("fake-aws-unsupported", detail)
    if evidence.timed_out:
        return _verdict("timeout", "killed before it started the plugin")
    if evidence.records_incomplete:
        return _verdict("inconclusive", "a process of the tool was killed before it could record")
    detail = f"tool exit {evidence.tool_exit}"
    if evidence.tool_stderr_tail:
        detail += f": {evidence.tool_stderr_tail}"
    return _verdict("plugin-not-called", detail)


def _plugin_failed(start: Mapping[str, Any], branch: str, warnings: list[str]) -> Verdict | None:
    """The plugin's own failure before any session (a panic, a response it cannot read)."""
    stderr = str(start.get("stderr") or "")
    if branch.startswith("panic-") or (start.get("exit_code") == 2 and "panic:" in stderr):
        return _verdict("plugin-panic", stderr.strip().splitlines()[0] if stderr.strip() else "")
    if branch == "response-decode-error":
        argv = list(start.get("argv") or [])
        named = len(argv) > 1 and str(argv[1]).startswith("AWS_SSM_START_SESSION_RESPONSE")
        code: ReasonCode = "env-mode-unsupported" if named else "bad-response"
        return _verdict(code, str(start.get("stdout") or "").strip()[:200], warnings)
    if branch in ("unknown-operation", "invalid-operation"):
        return _verdict("bad-response", f"plugin branch {branch}", warnings)
    if branch == "unknown-release":
        return _verdict("harness-error", "the fake plugin does not know the release")
    return None


def _from_transcript(
    evidence: Evidence,
    setup: Setup,
    start: Mapping[str, Any],
    parsed: Mapping[str, Any],
    transcript: Mapping[str, Any],
    warnings: list[str],
) -> Verdict:
    outcome = str(transcript.get("outcome"))
    text = _text(start, transcript)
    sid = transcript.get("session_id")
    if setup.session == "port-forward":
        if evidence.port_roundtrip:
            return _pass(warnings, f"bytes echoed through the forwarded port ({sid})")
        if outcome in {"completed", "client-disconnected"}:
            return _verdict("inconclusive", f"no bytes came back through the port ({outcome})")
    elif outcome == "completed":
        if setup.kms and not transcript.get("encrypted"):
            return _verdict("inconclusive", "KMS was configured but the session was not encrypted")
        if evidence.tool_exit not in (0, None):
            return _verdict("tool-failed", f"session completed, tool exit {evidence.tool_exit}")
        what = "encrypted session" if transcript.get("encrypted") else "session"
        return _pass(warnings, f"{what} {sid} completed")
    if outcome == "client-handshake-error":
        return _handshake_error(setup, start, parsed, transcript, text, warnings)
    if outcome == "kms-decrypt-failed":
        return _kms_decrypt_failed(setup, parsed, transcript, warnings)
    if evidence.timed_out:
        return _timed_out(f"session {sid}: {outcome}", transcript, warnings)
    return _verdict("inconclusive", f"agent outcome {outcome}: {_last_line(transcript)}", warnings)


def _timed_out(detail: str, transcript: Mapping[str, Any] | None, warnings: list[str]) -> Verdict:
    """A session killed at the cell's timeout: the caller's ``timeout``, unless the input was
    lost to a race inside AWS's plugin that numbered two messages alike.

    session-manager-plugin's ``SendInputDataMessage`` reads and increments its sequence number
    without a lock, so the terminal-size sender and the stdin reader can both send number N
    (src/datachannel/streaming.go at 1.2.677.0). The agent handles the first and acks the
    second as a duplicate: the keystrokes are lost and the session hangs. That proves nothing
    about the caller, so such a timeout is ``inconclusive``, naming the race.
    """
    for decision in (transcript or {}).get("decisions", []):
        if decision.get("event") == "sequence-reused":
            return _verdict(
                "inconclusive",
                f"the plugin sent two different messages as sequence number {decision.get('seq')} "
                "(a race between its size and input senders); the agent kept the first, so the "
                "input was lost: not the caller's doing",
                warnings,
            )
    return _verdict("timeout", detail, warnings)


def _handshake_error(
    setup: Setup,
    start: Mapping[str, Any],
    parsed: Mapping[str, Any],
    transcript: Mapping[str, Any],
    text: str,
    warnings: list[str],
) -> Verdict:
    """The plugin failed the handshake: an old argv, the wrong region or no credentials."""
    if any(m in text for m in _LEGACY_MARKERS) or parsed.get("legacy_cli"):
        return _verdict("legacy-argv", f"argc {start.get('argc')}", warnings)
    if parsed.get("region") not in (None, setup.region):
        return _verdict(
            "region-not-forwarded",
            f"argv[2] {parsed.get('region')!r}, session in {setup.region}",
            warnings,
        )
    if any(m in text for m in _CREDENTIAL_MARKERS):
        profile = parsed.get("profile")
        return _verdict("credentials-not-forwarded", f"argv[4] {profile!r}", warnings)
    return _verdict("inconclusive", _last_line(transcript), warnings)


def _kms_decrypt_failed(
    setup: Setup,
    parsed: Mapping[str, Any],
    transcript: Mapping[str, Any],
    warnings: list[str],
) -> Verdict:
    """The agent could not decrypt with the plugin's data key: which argv item was wrong."""
    ours = parsed.get("target")
    theirs = _agent_target(transcript)
    if not ours:
        return _verdict("no-target", f"agent expected {theirs!r}", warnings)
    if theirs is not None and ours != theirs:
        return _verdict("target-mismatch", f"argv[5] {ours!r}, agent {theirs!r}", warnings)
    if parsed.get("region") not in (None, setup.region):
        return _verdict("region-not-forwarded", f"argv[2] {parsed.get('region')!r}", warnings)
    return _verdict("inconclusive", _last_line(transcript), warnings)


def _last_line(transcript: Mapping[str, Any]) -> str:
    """The last line of the agent's closing output (where its error text is), or the outcome."""
    text = str(transcript.get("closing_output") or "").strip()
    return text.splitlines()[-1][:200] if text else str(transcript.get("outcome"))
