"""The per-session JSON transcript the verdicts are computed from (tokens never written).

This module owns the transcript's contract: :class:`TranscriptDoc` is its shape,
:data:`SessionOutcome` its outcomes, and :func:`check` is how a reader takes one in (another
schema version is a clear :class:`TranscriptVersionError`, never a silent misreading).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

from compat.agent.errors import TranscriptVersionError
from compat.agent.sessions import SessionSpec
from fake_plugin.wire import ClientMessage, MessageType, PayloadType

#: Bump when a field changes meaning; readers check it (:func:`check`). 2: agent faults moved
#: from ``errors`` (now only the client's protocol errors) to ``faults``.
SCHEMA_VERSION = 2

#: How a session ended, as the agent saw it.
SessionOutcome = Literal[
    "completed",
    "client-terminated",
    "client-disconnected",
    "client-handshake-error",
    "kms-decrypt-failed",
    "handshake-timeout",
    "challenge-failed",
    "challenge-timeout",
    "idle-timeout",
    "no-open-data-channel",
    "protocol-error",
    "unknown-session",
    "bad-token",
    #: The websocket was dropped on purpose and never resumed (the ``reconnect`` scenario).
    "not-resumed",
    #: The kit stopped the agent while the session was open.
    "agent-stopped",
    #: The agent itself failed (see ``faults``): the kit's fault, never the tool's.
    "agent-error",
]


class SessionSummary(TypedDict):
    """What the control plane promised for the session, without the token."""

    kind: str
    target: str
    region: str
    account_id: str
    session_type: str
    kms_key_id: str | None
    document_name: str | None
    command: str | None
    properties: dict[str, Any] | None
    parameters: dict[str, Any] | None
    access_key_id: str | None


class TranscriptDoc(TypedDict):
    """One session's transcript as written to ``<sessionId>.json`` and handed to readers."""

    schema_version: int
    session_id: str
    started_at: str
    duration_s: float | None
    session: SessionSummary | None
    agent: dict[str, Any]
    client: dict[str, Any]
    #: ``pending``, ``complete`` or ``failed``.
    handshake: str
    encrypted: bool
    challenge: str | None
    outcome: SessionOutcome | None
    closing_output: str | None
    #: What the client did wrong (an unexpected frame...).
    errors: list[str]
    #: What went wrong in the agent itself: a cell with one is ``error harness-error``.
    faults: list[str]
    decisions: list[dict[str, Any]]
    messages: list[dict[str, Any]]


def check(data: Mapping[str, Any], source: str = "transcript") -> TranscriptDoc:
    """``data`` as a transcript this kit reads, or :class:`TranscriptVersionError`."""
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise TranscriptVersionError(
            f"{source}: schema_version {version!r}; this smp-compat reads {SCHEMA_VERSION}"
        )
    return cast(TranscriptDoc, data)


def first_fault(data: TranscriptDoc) -> str | None:
    """The first line of the first fault the agent recorded for this session, if any."""
    for fault in data.get("faults") or ():
        lines = str(fault).strip().splitlines()
        if lines:
            return lines[0][:200]
    return None


#: Payload types whose bodies are JSON (handshake messages and Size).
_JSON_PAYLOADS = frozenset(
    {
        PayloadType.SIZE,
        PayloadType.HANDSHAKE_REQUEST,
        PayloadType.HANDSHAKE_RESPONSE,
        PayloadType.HANDSHAKE_COMPLETE,
        PayloadType.ENC_CHALLENGE_REQUEST,
        PayloadType.ENC_CHALLENGE_RESPONSE,
    }
)


def _iso(epoch_s: float) -> str:
    millis = int(epoch_s % 1 * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s)) + f".{millis:03d}Z"


def spec_summary(spec: SessionSpec) -> SessionSummary:
    """What the control plane promised, without the token."""
    return {
        "kind": spec.kind,
        "target": spec.target,
        "region": spec.region,
        "account_id": spec.account_id,
        "session_type": spec.session_type,
        "kms_key_id": spec.kms_key_id,
        "document_name": spec.document_name,
        "command": spec.command,
        "properties": spec.properties,
        "parameters": spec.parameters,
        "access_key_id": spec.access_key_id,
    }


def describe_payload(message: ClientMessage, plaintext: bytes | None = None) -> dict[str, Any]:
    """A readable view of a payload: JSON parsed, text decoded, flags named.

    ``plaintext`` is the decrypted Output when the wire payload is encrypted.
    """
    body = message.payload if plaintext is None else plaintext
    view: dict[str, Any] = {}
    if plaintext is not None:
        view["encrypted"] = True
    if message.message_type in (MessageType.ACK, MessageType.CHANNEL_CLOSED) or (
        message.payload_type in _JSON_PAYLOADS
    ):
        try:
            view["json"] = json.loads(body)
            return view
        except ValueError:
            pass
    if message.payload_type == PayloadType.FLAG and len(body) == 4:
        value = int.from_bytes(body, "big")
        view["flag"] = value
        return view
    view["text"] = body.decode("utf-8", "backslashreplace")
    return view


@dataclass
class Transcript:
    """Everything one data-channel connection did, built up as it happens."""

    session_id: str
    started_monotonic: float
    started_epoch: float = field(default_factory=time.time)
    session: SessionSummary | None = None
    agent: dict[str, Any] = field(default_factory=dict)
    client: dict[str, Any] = field(
        default_factory=lambda: {
            "open_data_channel": False,
            "client_version_sent": False,
            "client_version": None,
            "client_id": None,
            "request_id": None,
            "token_ok": None,
            "handshake_client_version": None,
        }
    )
    messages: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    handshake: str = "pending"
    encrypted: bool = False
    challenge: str | None = None
    outcome: SessionOutcome | None = None
    closing_output: str | None = None
    duration_s: float | None = None

    def elapsed(self, now: float) -> float:
        """Seconds since the connection opened, to 0.1 ms."""
        return round(now - self.started_monotonic, 4)

    def decide(self, now: float, event: str, **details: Any) -> None:
        """Record a decision the agent took (handshake, KMS call, challenge...)."""
        self.decisions.append({"t": self.elapsed(now), "event": event, **details})

    def message(
        self,
        now: float,
        direction: str,
        message: ClientMessage,
        plaintext: bytes | None = None,
        **extra: Any,
    ) -> None:
        """Record a binary frame; ``direction`` is ``"in"`` (client->agent) or ``"out"``."""
        entry: dict[str, Any] = {
            "t": self.elapsed(now),
            "dir": direction,
            "message_type": message.message_type,
            "seq": message.sequence_number,
            "flags": message.flags,
            "message_id": str(message.message_id),
            "payload_type": message.payload_type,
            "payload_type_name": _payload_name(message.payload_type),
            **describe_payload(message, plaintext),
            **extra,
        }
        self.messages.append(entry)

    def text_frame(self, now: float, body: Any, **extra: Any) -> None:
        """Record the text OpenDataChannel frame, its token replaced."""
        shown = dict(body) if isinstance(body, dict) else body
        if isinstance(shown, dict) and "TokenValue" in shown:
            shown["TokenValue"] = "<redacted>"
        entry = {"t": self.elapsed(now), "dir": "in", "message_type": "open_data_channel"}
        self.messages.append(entry | {"json": shown} | extra)

    def finish(self, now: float, outcome: SessionOutcome, closing_output: str | None) -> None:
        """Set the final outcome once; later calls keep the first."""
        if self.outcome is not None:
            return
        self.outcome = outcome
        self.closing_output = closing_output
        self.duration_s = self.elapsed(now)

    def to_dict(self) -> TranscriptDoc:
        return {
            "schema_version": SCHEMA_VERSION,
            "session_id": self.session_id,
            "started_at": _iso(self.started_epoch),
            "duration_s": self.duration_s,
            "session": self.session,
            "agent": self.agent,
            "client": self.client,
            "handshake": self.handshake,
            "encrypted": self.encrypted,
            "challenge": self.challenge,
            "outcome": self.outcome,
            "closing_output": self.closing_output,
            "errors": self.errors,
            "faults": self.faults,
            "decisions": self.decisions,
            "messages": self.messages,
        }


def _payload_name(value: int) -> str | None:
    try:
        return PayloadType(value).name
    except ValueError:
        return None


def write_atomically(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON through a temporary file and ``os.replace``: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
