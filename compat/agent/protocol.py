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
from typing import Any

from compat.agent import texts
from compat.agent.channel import (
    ALWAYS_HANDSHAKE,
    ENCRYPTED_OUT,
    KMS_RANDOM_CHALLENGE_BYTES,
    REFUSED_CLOSE_CODE,
    AgentConfig,
    Close,
    HandshakeState,
    Outgoing,
    Phase,
)
from compat.agent.handshake_steps import HandshakeSteps
from compat.agent.kms import KmsRequest, KmsResult
from compat.agent.sessions import SessionSpec
from compat.agent.shell import ScriptedShell
from compat.agent.transcript import SessionOutcome, Transcript, spec_summary
from fake_plugin.crypto import SessionCipher
from fake_plugin.errors import DecryptError, WireError
from fake_plugin.handshake import (
    KMS_ENCRYPTION,
    SESSION_TYPE,
    HandshakeRequest,
    RequestedAction,
    b64,
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

__all__ = ["REFUSED_CLOSE_CODE", "AgentConfig", "AgentSession", "Close", "Outgoing", "Phase"]


class AgentSession(HandshakeSteps):
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
        self._hs = HandshakeState()
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
        required = spec.session_type in ALWAYS_HANDSHAKE
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
                        "Challenge": b64(os.urandom(KMS_RANDOM_CHALLENGE_BYTES)),
                    },
                )
            )
        request = HandshakeRequest(self._agent_version(), tuple(actions))
        self._hs = HandshakeState(
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
        if self._cipher is not None and payload_type in ENCRYPTED_OUT:
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
