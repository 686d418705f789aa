"""The agent/MGS side of one data-channel session as a pure state machine (no sockets).

Fed with frames (``receive_text``/``receive_binary``) and the clock (``tick``), it queues
frames to send (``take_outgoing``) and, when the client's data key must be decrypted, asks
its I/O layer for a KMS call (``pending_kms`` -> ``kms_done``), in websockets' sans-I/O style.
Behaviour: docs/plugin.md §3.3-§3.7, checked against AGENT@1c217c89 (amazon-ssm-agent,
2024-10) ``agent/session/datachannel/datachannel.go`` and
``agent/session/plugins/sessionplugin/sessionplugin.go``.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from compat.agent import texts
from compat.agent.kms import KmsRequest, KmsResult
from compat.agent.sessions import SessionSpec
from compat.agent.shell import ScriptedShell
from compat.agent.transcript import SessionOutcome, Transcript, spec_summary
from fake_plugin.crypto import SessionCipher
from fake_plugin.errors import DecryptError, WireError
from fake_plugin.handshake import (
    KMS_ENCRYPTION,
    SESSION_TYPE,
    ActionStatus,
    HandshakeRequest,
    HandshakeResponse,
    RequestedAction,
    b64,
    challenge_payload,
    handshake_complete_payload,
    unb64,
)
from fake_plugin.wire import (
    FLAGS_SYN,
    ClientMessage,
    Flag,
    MessageType,
    Outbox,
    PayloadType,
    ack_for,
    channel_closed,
    decode,
    encode,
    parse_ack,
)

#: AgentVersion for shell sessions: the newest release in AGENT@1c217c89:RELEASENOTES.md.
AGENT_VERSION = "3.3.987.0"
#: AgentVersion for Port sessions. The plugin uses smux only for agents *after* 3.0.196.0
#: (SMP@61cf1288:src/config/config.go:48, portsession.go:67-80), so reporting exactly
#: 3.0.196.0 selects basic forwarding, which our echo "remote service" speaks. It is still
#: after 2.3.722.0, so the plugin sends the TerminateSession flag on exit (config.go:47).
PORT_AGENT_VERSION = "3.0.196.0"
#: Session types whose agent plugin requires a handshake even without KMS
#: (port.go:137-139, noninteractivecommands.go:42-44; InteractiveCommands delegates to
#: singlecommand.go:47-49, which says no, like standardstream.go:42-44).
_ALWAYS_HANDSHAKE = frozenset({"Port", "NonInteractiveCommands"})
#: randomChallengeSize (AGENT@1c217c89:agent/session/crypto/blockcipher.go:30) and the
#: challenge of 64 random bytes (datachannel.go:1093-1096).
_KMS_RANDOM_CHALLENGE_BYTES = 16
_ENC_CHALLENGE_BYTES = 64
#: Payload types the agent encrypts once KMS is on (datachannel.go:412-416).
_ENCRYPTED_OUT = frozenset({PayloadType.OUTPUT, PayloadType.STDERR, PayloadType.EXIT_CODE})
#: Close code for a refused OpenDataChannel. MGS is closed source; 1008 (policy violation)
#: is our choice, documented as such.
REFUSED_CLOSE_CODE = 1008


class Phase(StrEnum):
    """Where the session is."""

    AWAIT_OPEN = "await-open"
    HANDSHAKE = "handshake"
    KMS = "kms"
    CHALLENGE = "challenge"
    READY = "ready"
    RUNNING = "running"
    DRAINING = "draining"
    CLOSED = "closed"


@dataclass(frozen=True)
class Close:
    """Close the websocket (after the frames queued before it)."""

    code: int = 1000
    reason: str = ""


Outgoing = bytes | str | Close


@dataclass(frozen=True)
class AgentConfig:
    """Timeouts and pacing; the defaults are the real agent's where it has one."""

    #: datachannel.go:51 (15 s), for the HandshakeResponse and again for the challenge.
    handshake_timeout_s: float = 15.0
    #: No client frame for this long closes the session (a harness guard, not emulation).
    idle_timeout_s: float = 30.0
    #: Resend unacked output this often (the plugin drops output it is not ready for).
    resend_interval_s: float = 0.25
    #: The session plugin opens its pty this long after HandshakeComplete went out; until
    #: then stream data is refused unacked (``ErrHandlerNotReady``, shell_unix.go:425-433) and
    #: the client resends it. The real delay is the pty's start; 50 ms is long enough that
    #: on loopback the Size sent on HandshakeComplete usually meets a plugin that is not
    #: ready, so encrypted sessions exercise the client's resend, not only the tests.
    shell_start_s: float = 0.05
    #: PrepareToCloseChannel waits up to 2 s for the outgoing buffer (datachannel.go:387-402).
    drain_timeout_s: float = 2.0
    agent_version: str = AGENT_VERSION
    port_agent_version: str = PORT_AGENT_VERSION


@dataclass
class _HandshakeState:
    requested: bool = False
    encryption: bool = False
    sent_at: float = 0.0
    deadline: float = 0.0
    response: HandshakeResponse | None = None
    kms_requests: list[tuple[int, KmsRequest]] = field(default_factory=list)
    kms_results: dict[int, KmsResult] = field(default_factory=dict)
    challenge: bytes = b""
    challenge_error: str | None = None
    complete_seq: int | None = None
    #: When the session plugin's handler becomes ready (set on HandshakeComplete).
    plugin_ready_at: float | None = None


class AgentSession:
    """One websocket connection to ``/v1/data-channel/<session_id>``."""

    def __init__(
        self,
        session_id: str,
        spec: SessionSpec | None,
        config: AgentConfig,
        now: float | None = None,
    ) -> None:
        start = time.monotonic() if now is None else now
        self.session_id = session_id
        self.spec = spec
        self.config = config
        self.phase = Phase.AWAIT_OPEN
        self.transcript = Transcript(session_id, start)
        self.transcript.session = spec_summary(spec) if spec else None
        self.transcript.agent = {
            "agent_version": self._agent_version(),
            "handshake_timeout_s": config.handshake_timeout_s,
            "idle_timeout_s": config.idle_timeout_s,
        }
        self._out: list[Outgoing] = []
        self._outbox = Outbox(MessageType.OUTPUT)
        self._expected = 0
        self._buffer: dict[int, ClientMessage] = {}
        #: What was handled at each sequence number: (payload type, payload), to tell a resend
        #: (the same bytes) from a second message the client numbered the same.
        self._handled: dict[int, tuple[int, bytes]] = {}
        self._cipher: SessionCipher | None = None
        self._hs = _HandshakeState()
        self._shell: ScriptedShell | None = None
        self._last_activity = start
        self._drain_deadline = 0.0
        self._pending_outcome: tuple[SessionOutcome, str] = ("completed", "")
        self._last_resend = start
        self._deferred: Callable[[float], None] | None = None
        #: The websocket was dropped on purpose; a resumed connection may take over.
        self.awaiting_resume = False

    # -- public API -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.phase is Phase.CLOSED

    @property
    def pending_kms(self) -> list[KmsRequest]:
        """KMS calls the I/O layer must make, then report with :meth:`kms_done`."""
        if self.phase is not Phase.KMS:
            return []
        return [request for _, request in self._hs.kms_requests]

    def take_outgoing(self) -> list[Outgoing]:
        out, self._out = self._out, []
        return out

    def receive_text(self, text: str, now: float) -> None:
        """A text frame: only the first frame, OpenDataChannel, may be text."""
        self._last_activity = now
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        self.transcript.text_frame(now, body if body is not None else text)
        if self.phase is not Phase.AWAIT_OPEN or not isinstance(body, dict):
            self.transcript.errors.append("unexpected text frame")
            if self.phase is Phase.AWAIT_OPEN:
                self._refuse(now, "protocol-error", "OpenDataChannel is not a JSON object")
            return
        self._open(body, now)

    def receive_binary(self, data: bytes, now: float) -> None:
        """A binary ClientMessage frame."""
        self._last_activity = now
        if self.phase is Phase.AWAIT_OPEN:
            self.transcript.errors.append("binary frame before OpenDataChannel")
            self._refuse(now, "protocol-error", "binary frame before OpenDataChannel")
            return
        if self.closed:
            return
        try:
            message = decode(data)
        except WireError as exc:
            # The agent logs and drops invalid frames, no ack (datachannel.go:628-637).
            t = self.transcript.elapsed(now)
            self.transcript.messages.append(
                {"t": t, "dir": "in", "error": str(exc), "bytes": len(data)}
            )
            return
        if message.message_type == MessageType.ACK:
            self._on_ack(message, now)
        elif message.message_type == MessageType.INPUT:
            self._on_input(message, now)
        else:
            self.transcript.message(now, "in", message, ignored=True)

    def kms_done(self, results: list[KmsResult], now: float) -> None:
        """The answers to :attr:`pending_kms`, in order.

        The client's idle time starts again here: while the agent's own ``kms:Decrypt`` ran
        (seconds on a loaded machine), the client was waiting for the agent, not idle.
        """
        if self.phase is not Phase.KMS:
            raise RuntimeError("no KMS call is pending")
        self._last_activity = now
        for (index, request), result in zip(self._hs.kms_requests, results, strict=True):
            self._hs.kms_results[index] = result
            self.transcript.decide(
                now,
                "kms-decrypt",
                key_id=request.key_id,
                region=request.region,
                encryption_context=request.context,
                ok=result.plaintext is not None,
                error=result.sdk_error,
                detail=result.detail,
            )
        self.phase = Phase.HANDSHAKE
        self._finish_handshake_response(now)
        self._drain_buffer(now)

    def tick(self, now: float) -> None:
        """Deadlines and resends."""
        if self.closed:
            return
        hs = self._hs
        limit = self.config.handshake_timeout_s
        if self.phase is Phase.HANDSHAKE and now >= hs.deadline:
            self.transcript.decide(now, "handshake-timeout", after_s=limit)
            self._fail_handshake(now, "handshake-timeout", texts.HANDSHAKE_TIMED_OUT)
            return
        if self.phase is Phase.CHALLENGE and now >= hs.deadline:
            outcome: SessionOutcome = (
                "challenge-failed" if hs.challenge_error else "challenge-timeout"
            )
            if outcome == "challenge-timeout":
                self.transcript.challenge = "timeout"
            self.transcript.decide(now, "challenge-timeout", after_s=limit)
            self._fail_handshake(now, outcome, texts.CHALLENGE_TIMED_OUT)
            return
        ready_at = hs.plugin_ready_at
        if self.phase is Phase.READY and ready_at is not None and now >= ready_at:
            # No draining of buffered input here: like the real agent, the next message in
            # sequence arrives as the client's resend and releases the buffer.
            self._start(now)
        if self.phase is Phase.DRAINING and (
            self._outbox.pending == 0 or now >= self._drain_deadline
        ):
            outcome, output = self._pending_outcome
            self._close_channel(now, outcome, output, unacked=self._outbox.pending)
            return
        if now - self._last_activity >= self.config.idle_timeout_s:
            if self.phase is Phase.AWAIT_OPEN:
                self._refuse(now, "no-open-data-channel", "no OpenDataChannel frame")
                return
            self.transcript.decide(now, "idle-timeout", after_s=self.config.idle_timeout_s)
            self._close_channel(now, "idle-timeout", "")
            return
        if now - self._last_resend >= self.config.resend_interval_s / 2:
            self._last_resend = now
            for message in self._outbox.due(self.config.resend_interval_s, now):
                self._out.append(encode(message))
                self.transcript.message(now, "out", message, resent=True)

    def next_wakeup(self, now: float) -> float:
        """Seconds until :meth:`tick` has something to do (an upper bound for a poll)."""
        wait = min(self.config.resend_interval_s / 2, 0.1)
        ready_at = self._hs.plugin_ready_at
        if self.phase is Phase.READY and ready_at is not None:
            wait = min(wait, ready_at - now)
        return max(0.0, wait)

    def connection_lost(self, now: float, outcome: SessionOutcome = "client-disconnected") -> None:
        """The websocket went away without a ``channel_closed`` from us."""
        if not self.closed:
            self.transcript.decide(now, outcome, phase=self.phase.value)
            self.transcript.finish(now, outcome, None)
            self.phase = Phase.CLOSED

    def fail(self, now: float, error: str, *details: str) -> None:
        """An internal fault: recorded (with ``details`` such as a traceback), and the channel
        closed as an agent failure."""
        self.transcript.faults.extend((error, *details))
        if not self.closed:
            self._close_channel(now, "agent-error", texts.truncate_output("", error))

    # -- opening ----------------------------------------------------------------------------

    def _agent_version(self) -> str:
        if self.spec is not None and self.spec.session_type == "Port":
            return self.config.port_agent_version
        return self.config.agent_version

    def _open(self, body: dict[str, Any], now: float) -> None:
        client = self.transcript.client
        client["open_data_channel"] = True
        client["client_version_sent"] = "ClientVersion" in body
        client["client_version"] = body.get("ClientVersion")
        client["client_id"] = body.get("ClientId")
        client["request_id"] = body.get("RequestId")
        client["message_schema_version"] = body.get("MessageSchemaVersion")
        if self.spec is None:
            client["token_ok"] = False
            self.transcript.decide(now, "token-checked", ok=False, reason="unknown session")
            self._refuse(now, "unknown-session", "unknown session")
            return
        ok = body.get("TokenValue") == self.spec.token_value
        client["token_ok"] = ok
        self.transcript.decide(now, "token-checked", ok=ok)
        if not ok:
            self._refuse(now, "bad-token", "invalid token")
            return
        self._begin(now)

    def _refuse(self, now: float, outcome: SessionOutcome, reason: str) -> None:
        self.transcript.decide(now, "refused", outcome=outcome, close_code=REFUSED_CLOSE_CODE)
        self.transcript.finish(now, outcome, None)
        self._out.append(Close(REFUSED_CLOSE_CODE, reason))
        self.phase = Phase.CLOSED

    def _begin(self, now: float) -> None:
        """Handshake or not, as sessionplugin.go:83-115 decides."""
        assert self.spec is not None
        spec = self.spec
        # isEncryptionEnabled: a key and not Port (sessionplugin.go:119-122).
        encryption = bool(spec.kms_key_id) and spec.session_type != "Port"
        required = spec.session_type in _ALWAYS_HANDSHAKE
        if not (required or encryption):
            self.transcript.handshake = "skipped"
            self.transcript.decide(now, "handshake-skipped", session_type=spec.session_type)
            self._start(now)
            return
        properties = spec.properties if spec.session_type == "Port" else None
        actions = [
            RequestedAction(
                SESSION_TYPE, {"SessionType": spec.session_type, "Properties": properties}
            )
        ]
        if encryption:
            assert spec.kms_key_id is not None
            actions.append(
                RequestedAction(
                    KMS_ENCRYPTION,
                    {
                        "KMSKeyId": spec.kms_key_id,
                        "Challenge": b64(os.urandom(_KMS_RANDOM_CHALLENGE_BYTES)),
                    },
                )
            )
        request = HandshakeRequest(self._agent_version(), tuple(actions))
        self._hs = _HandshakeState(
            requested=True,
            encryption=encryption,
            sent_at=now,
            deadline=now + self.config.handshake_timeout_s,
        )
        self.transcript.handshake = "requested"
        self.transcript.decide(
            now,
            "handshake-requested",
            session_type=spec.session_type,
            kms_key_id=spec.kms_key_id if encryption else None,
            agent_version=request.agent_version,
        )
        self.phase = Phase.HANDSHAKE
        self._send(PayloadType.HANDSHAKE_REQUEST, request.payload(), now)

    # -- incoming ---------------------------------------------------------------------------

    def _on_ack(self, message: ClientMessage, now: float) -> None:
        try:
            ack = parse_ack(message)
        except WireError as exc:
            self.transcript.message(now, "in", message, error=str(exc))
            return
        known = self._outbox.acknowledged(ack.sequence_number)
        self.transcript.message(now, "in", message, known=known)

    def _on_input(self, message: ClientMessage, now: float) -> None:
        """Agent sequencing (datachannel.go:695-740): process, *then* ack; re-ack old ones.

        Unlike the plugin (wire.Inbox), the agent acks a message only after handling it
        succeeded, and a failure leaves the expected number where it was, so the client
        resends. That is why this does not use ``Inbox``. A handler that is not ready
        (``ErrHandlerNotReady``, :697-699) is such a failure: no ack, nothing sent back.
        """
        seq = message.sequence_number
        if seq < self._expected:
            self.transcript.message(now, "in", message, duplicate=True)
            first = self._handled.get(seq)
            if first is not None and first != (message.payload_type, message.payload):
                # Acked as a duplicate and dropped, as the real agent does; noted, because
                # the input it carried is lost through no fault of the caller.
                self.transcript.decide(
                    now,
                    "sequence-reused",
                    seq=seq,
                    kept_payload_type=first[0],
                    lost_payload_type=message.payload_type,
                )
            self._ack(message, now)
            return
        if seq > self._expected:
            self.transcript.message(now, "in", message, buffered=True)
            if seq not in self._buffer:
                self._buffer[seq] = message
            self._ack(message, now)
            return
        if not self._process(message, now, record=True):
            return
        self._handled[seq] = (message.payload_type, message.payload)
        self._ack(message, now)
        self._expected += 1
        self._run_deferred(now)
        self._drain_buffer(now)

    def _run_deferred(self, now: float) -> None:
        """Work the real agent does after the handler returned and the ack went out:
        PerformHandshake reacting to the response (datachannel.go:970-1010)."""
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            deferred(now)

    def _drain_buffer(self, now: float) -> None:
        """Handle buffered messages now in order (processIncomingMessageBufferItems)."""
        while self._expected in self._buffer and not self.closed:
            if self.phase is Phase.KMS:
                return  # resumes after kms_done
            buffered = self._buffer.pop(self._expected)
            if not self._process(buffered, now, record=False):
                self._buffer[self._expected] = buffered
                return
            self._handled[self._expected] = (buffered.payload_type, buffered.payload)
            self._expected += 1
            self._run_deferred(now)

    def _ack(self, message: ClientMessage, now: float) -> None:
        ack = ack_for(message)
        self._out.append(encode(ack))
        self.transcript.message(now, "out", ack)

    def _process(self, message: ClientMessage, now: float, record: bool) -> bool:
        """Handle one in-order message; False: not handled, leave it unacked."""
        payload_type = message.payload_type
        plaintext: bytes | None = None
        body = message.payload
        if self._cipher is not None and payload_type == PayloadType.OUTPUT:
            try:
                plaintext = self._cipher.decrypt(message.payload)
            except DecryptError:
                self.transcript.message(now, "in", message, error="undecryptable")
                self.transcript.decide(
                    now,
                    "decrypt-failed",
                    seq=message.sequence_number,
                    error=texts.decrypt_stream_failed(message.sequence_number),
                )
                return False
            body = plaintext
        # A message handled from the buffer was recorded on arrival without its plaintext.
        extra = {} if record else {"from_buffer": True}
        self.transcript.message(now, "in", message, plaintext, **extra)
        if payload_type == PayloadType.HANDSHAKE_RESPONSE:
            return self._on_handshake_response(message, now)
        if payload_type == PayloadType.ENC_CHALLENGE_RESPONSE:
            return self._on_challenge_response(message, now)
        if self.phase in (Phase.HANDSHAKE, Phase.KMS, Phase.CHALLENGE):
            # "Handshake still in progress, ignore stream data message" (datachannel.go:839-843)
            self.transcript.decide(now, "ignored-during-handshake", seq=message.sequence_number)
            return True
        if self.phase is Phase.READY and not self._non_interactive:
            # The pty is not open yet: InputStreamMessageHandler returns ErrHandlerNotReady
            # for every payload type (shell_unix.go:425-433); handleStreamDataMessage then
            # returns nil without an ack (datachannel.go:695-699), and so the client resends.
            # NonInteractiveCommands has no pty and never says not ready: input is only
            # scanned for control signals and Size is ignored (shell_unix.go:428, 441-466).
            self.transcript.decide(
                now, "handler-not-ready", seq=message.sequence_number, payload_type=payload_type
            )
            return False
        if payload_type == PayloadType.SIZE:
            self._on_size(body, now)
        elif payload_type == PayloadType.FLAG:
            self._on_flag(body, now)
        elif payload_type == PayloadType.OUTPUT:
            if self._drop_before(body, now):
                return False
            self._on_output(body, now)
        return True

    @property
    def _non_interactive(self) -> bool:
        return self.spec is not None and self.spec.session_type == "NonInteractiveCommands"

    def _on_size(self, body: bytes, now: float) -> None:
        try:
            size = json.loads(body)
        except ValueError:
            size = None
        self.transcript.decide(now, "size", size=size)

    def _on_flag(self, body: bytes, now: float) -> None:
        value = int.from_bytes(body, "big") if len(body) == 4 else -1
        try:
            name = Flag(value).name
        except ValueError:
            name = "UNKNOWN"
        self.transcript.decide(now, "client-flag", flag=value, name=name)
        if value == Flag.TERMINATE_SESSION:
            self._close_channel(now, "client-terminated", "")

    def _on_output(self, body: bytes, now: float) -> None:
        if self.spec is not None and self.spec.session_type == "Port":
            # The "remote service" behind the port is an echo server.
            self._send(PayloadType.OUTPUT, body, now)
            return
        if self._shell is None:
            return
        step = self._shell.feed(body)
        self._send(PayloadType.OUTPUT, step.output, now)
        if step.exited:
            self._drain(now, "completed", "")

    # -- handshake --------------------------------------------------------------------------

    def _on_handshake_response(self, message: ClientMessage, now: float) -> bool:
        if self.phase is not Phase.HANDSHAKE:
            self.transcript.decide(now, "unexpected-handshake-response", phase=self.phase.value)
            return True
        try:
            response = HandshakeResponse.parse(message.json())
        except (ValueError, AttributeError, TypeError) as exc:
            # datachannel.go:856-859: the handler fails, the message stays unacked.
            self.transcript.decide(now, "handshake-response-unparsable", error=str(exc))
            return False
        hs = self._hs
        hs.response = response
        self.transcript.client["handshake_client_version"] = response.client_version
        assert self.spec is not None
        for index, action in enumerate(response.actions):
            self.transcript.decide(
                now,
                "client-action",
                action_type=action.action_type,
                status=action.status,
                error=action.error,
                result=_redact_result(action.result),
            )
            if action.status == ActionStatus.SUCCESS and action.action_type == KMS_ENCRYPTION:
                blob = _ciphertext_of(action.result)
                hs.kms_requests.append(
                    (
                        index,
                        KmsRequest(
                            key_id=self.spec.kms_key_id or "",
                            region=self.spec.region,
                            ciphertext=blob,
                            context={
                                "aws:ssm:SessionId": self.session_id,
                                "aws:ssm:TargetId": self.spec.target,
                            },
                        ),
                    )
                )
        if response.errors:
            # Errors[] is ignored by the agent (datachannel.go:854-889); kept for the record.
            self.transcript.decide(now, "client-errors-ignored", errors=list(response.errors))
        # The agent acks the response once its handler returned: the ack goes out now, the
        # KMS call (if any) and the rest of the handling happen before the next frame.
        if hs.kms_requests:
            self.phase = Phase.KMS
            return True
        self._deferred = self._finish_handshake_response
        return True

    def _finish_handshake_response(self, now: float) -> None:
        """The loop of handleHandshakeResponse: every failing action sets the error, the last
        one wins (datachannel.go:861-884); then PerformHandshake goes on (:970-1010)."""
        hs = self._hs
        assert hs.response is not None
        error: tuple[SessionOutcome, str] | None = None
        for index, action in enumerate(hs.response.actions):
            if action.status != ActionStatus.SUCCESS:
                text = texts.client_action_failed(action.action_type, action.status, action.error)
                error = ("client-handshake-error", text)
            elif action.action_type == KMS_ENCRYPTION:
                result = hs.kms_results[index]
                if result.plaintext is None:
                    assert result.sdk_error is not None
                    text = texts.data_key_failed(result.sdk_error)
                    error = ("kms-decrypt-failed", text)
                elif len(result.plaintext) != 64:
                    size = max(len(result.plaintext) - 32, 0)
                    text = (
                        "Fetching data key failed: Error creating NewCipher, "
                        f"crypto/aes: invalid key size {size}"
                    )
                    error = ("kms-decrypt-failed", text)
                else:
                    self._cipher = SessionCipher(result.plaintext, role="agent")
            elif action.action_type == SESSION_TYPE:
                pass
            else:
                self.transcript.decide(now, "unknown-client-action", action_type=action.action_type)
        if error is not None:
            self._fail_handshake(now, error[0], error[1])
            return
        if hs.encryption:
            self._send_challenge(now)
            return
        self._complete_handshake(now)

    def _send_challenge(self, now: float) -> None:
        hs = self._hs
        hs.deadline = now + self.config.handshake_timeout_s
        self.phase = Phase.CHALLENGE
        if self._cipher is None:
            # The client returned no KMSEncryption action; the real agent would try to encrypt
            # with no key. We record it and let the challenge time out.
            self.transcript.decide(now, "challenge-not-sent", reason="no data key from client")
            hs.challenge_error = "no KMSEncryption action in the HandshakeResponse"
            return
        self.transcript.encrypted = True
        hs.challenge = os.urandom(_ENC_CHALLENGE_BYTES)
        self.transcript.decide(now, "challenge-sent")
        encrypted = self._cipher.encrypt(hs.challenge)
        self._send(PayloadType.ENC_CHALLENGE_REQUEST, challenge_payload(encrypted), now)

    def _on_challenge_response(self, message: ClientMessage, now: float) -> bool:
        """datachannel.go:892-916. On failure the handler returns an error *without* signalling
        the waiting PerformHandshake, so the message stays unacked and the user sees only
        ``Timed out waiting for encryption challenge.`` after the timeout."""
        hs = self._hs
        if self.phase is not Phase.CHALLENGE or self._cipher is None:
            self.transcript.decide(now, "unexpected-challenge-response", phase=self.phase.value)
            return True
        try:
            answer = self._cipher.decrypt(unb64(str(message.json()["Challenge"])))
        except (ValueError, KeyError, TypeError, DecryptError) as exc:
            reason = f"Error decrypting encrypted text: {exc}"
        else:
            if answer == hs.challenge:
                self.transcript.challenge = "passed"
                self.transcript.decide(now, "challenge-passed")
                self._deferred = self._complete_handshake
                return True
            reason = texts.CHALLENGE_MISMATCH
        if hs.challenge_error is None:
            self.transcript.challenge = "failed"
            self.transcript.decide(now, "challenge-failed", reason=reason)
        hs.challenge_error = reason
        return False

    def _complete_handshake(self, now: float) -> None:
        hs = self._hs
        message = texts.ENCRYPTED_CUSTOMER_MESSAGE if self._cipher is not None else ""
        took_ns = int((now - hs.sent_at) * 1e9)
        hs.complete_seq = self._send(
            PayloadType.HANDSHAKE_COMPLETE, handshake_complete_payload(took_ns, message), now
        )
        self.transcript.handshake = "complete"
        assert self.spec is not None
        self.transcript.decide(
            now,
            "handshake-complete",
            customer_message=message,
            session_type_confirmed=self.spec.session_type,
        )
        self.phase = Phase.READY
        if self.spec.session_type == "Port":
            self._start(now)
        else:
            # PerformHandshake returns and the shell plugin starts its pty (shell.go:177-260).
            hs.plugin_ready_at = now + self.config.shell_start_s

    def _fail_handshake(self, now: float, outcome: SessionOutcome, error: str) -> None:
        self.transcript.handshake = "failed"
        self.transcript.decide(now, "handshake-failed", outcome=outcome, error=error)
        self._close_channel(now, outcome, texts.handshake_failed_output(error))

    # -- running ----------------------------------------------------------------------------

    def _start(self, now: float) -> None:
        """Run the session plugin: the scripted shell, or the port echo."""
        assert self.spec is not None
        self.phase = Phase.RUNNING
        if self.spec.session_type == "Port":
            self.transcript.decide(now, "port-forwarding-started", mode="basic", service="echo")
            return
        self._shell = ScriptedShell(self.spec.command)
        self.transcript.decide(
            now, "shell-started", command=self.spec.command, interactive=self._shell.interactive
        )
        step = self._shell.start()
        self._send(PayloadType.OUTPUT, step.output, now)
        if step.exited:
            self._drain(now, "completed", "")

    def _drain(self, now: float, outcome: SessionOutcome, output: str) -> None:
        self._pending_outcome = (outcome, output)
        self._drain_deadline = now + self.config.drain_timeout_s
        self.phase = Phase.DRAINING
        self.transcript.decide(now, "session-ended", outcome=outcome)
        if self._outbox.pending == 0:
            self._close_channel(now, outcome, output)

    def _close_channel(
        self, now: float, outcome: SessionOutcome, output: str, **details: Any
    ) -> None:
        """What MGS does when the agent reports the task done: ``channel_closed`` with Output."""
        message = channel_closed(self.session_id, output)
        self._out.append(encode(message))
        self._out.append(Close(1000, ""))
        self.transcript.message(now, "out", message)
        self.transcript.decide(now, "channel-closed", outcome=outcome, output=output, **details)
        self.transcript.finish(now, outcome, output)
        self.phase = Phase.CLOSED

    def _send(self, payload_type: int, payload: bytes, now: float) -> int | None:
        """Number, encrypt if due, queue and remember one stream message; empty is skipped
        (SendStreamDataMessage ignores empty payloads, datachannel.go:406-409)."""
        if not payload:
            return None
        wire_payload = payload
        if self._cipher is not None and payload_type in _ENCRYPTED_OUT:
            wire_payload = self._cipher.encrypt(payload)
        flags = FLAGS_SYN if self._outbox.next_seq == 0 else 0
        message = self._outbox.message(payload_type, wire_payload, flags=flags)
        self._out.append(encode(message))
        plaintext = payload if wire_payload is not payload else None
        self.transcript.message(now, "out", message, plaintext)
        return message.sequence_number

    # -- a dropped websocket and the resumed one (the ``reconnect`` scenario) --------------

    #: Close code of the drop: "going away", as a server restarting would send.
    DROP_CLOSE_CODE = 1001

    def _drop_before(self, body: bytes, now: float) -> bool:
        """Drop the websocket instead of handling the input that would end the shell.

        Only once per session, and only when the control plane asked for it. Dropping at the
        last input the client types means nothing is typed while the connection is gone, so
        the outcome depends on the resume alone: the input stays unacked, the plugin resends
        it on the resumed connection, and the shell then exits as it would have.
        """
        spec = self.spec
        if spec is None or not spec.drop_websocket_once or self.awaiting_resume:
            return False
        if self._shell is None or any(d["event"] == "websocket-dropped" for d in self.decisions):
            return False
        if not copy.deepcopy(self._shell).feed(body).exited:
            return False
        self.awaiting_resume = True
        self.transcript.decide(now, "websocket-dropped", close_code=self.DROP_CLOSE_CODE)
        self._out.append(Close(self.DROP_CLOSE_CODE, ""))
        return True

    @property
    def decisions(self) -> list[dict[str, Any]]:
        return self.transcript.decisions

    def resume(self, body: Any, spec: SessionSpec | None, now: float) -> bool:
        """The OpenDataChannel of a resumed connection: the token ResumeSession handed out.

        On success the session goes on where it was (sequence numbers, encryption, shell);
        everything unacked is sent again at once.
        """
        self._last_activity = now
        self.transcript.text_frame(now, body)
        token = body.get("TokenValue") if isinstance(body, dict) else None
        ok = spec is not None and token == spec.token_value
        self.transcript.decide(now, "resumed" if ok else "resume-refused", token_ok=ok)
        if not ok:
            return False
        self.spec = spec
        self.awaiting_resume = False
        for message in self._outbox.due(0.0, now):
            self._out.append(encode(message))
            self.transcript.message(now, "out", message, resent=True)
        return True


def _ciphertext_of(result: Any) -> bytes | None:
    """``KMSCipherTextKey`` as Go's json would give it: nil when absent/null, else base64."""
    if not isinstance(result, dict):
        return None
    value = result.get("KMSCipherTextKey")
    if value is None:
        return None
    try:
        return unb64(str(value))
    except ValueError:
        return None


def _redact_result(result: Any) -> Any:
    """ActionResult for the transcript: the ciphertext key shortened to its length."""
    if isinstance(result, dict) and isinstance(result.get("KMSCipherTextKey"), str):
        shown = dict(result)
        shown["KMSCipherTextKey"] = f"<{len(result['KMSCipherTextKey'])} base64 chars>"
        return shown
    return result
