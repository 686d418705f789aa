"""The agent/MGS side of one data-channel session as a pure state machine (no sockets).

Fed with frames (``receive_text``/``receive_binary``) and the clock (``tick``), it queues
frames to send (``take_outgoing``) and, when the client's data key must be decrypted, asks
its I/O layer for a KMS call (``pending_kms`` -> ``kms_done``), in websockets' sans-I/O style.
Behaviour: docs/plugin.md §3.3-§3.7, checked against AGENT@1c217c89 (amazon-ssm-agent,
2024-10) ``agent/session/datachannel/datachannel.go`` and
``agent/session/plugins/sessionplugin/sessionplugin.go``.

The session is put together from its parts, one job each: the shared state and the ways to
end (``state``), the frames out (``outgoing``), the input sequence (``sequencing``), the
handshake (``handshake_steps``) and the session plugin's phase (``stream``). What stays here
is the OpenDataChannel, the dispatch of each in-order message, and the clock.
"""

from __future__ import annotations

import json
import time
from typing import Any

from compat.agent import texts
from compat.agent.channel import REFUSED_CLOSE_CODE, AgentConfig, Close, Outgoing, Phase
from compat.agent.handshake_steps import Handshake
from compat.agent.kms import KmsRequest, KmsResult
from compat.agent.outgoing import OutgoingStream
from compat.agent.sequencing import InputSequence
from compat.agent.sessions import SessionSpec
from compat.agent.state import SessionState
from compat.agent.stream import StreamPhase
from compat.agent.transcript import SessionOutcome, Transcript, spec_summary
from fake_plugin.errors import DecryptError, WireError
from fake_plugin.wire import ClientMessage, MessageType, PayloadType, decode

__all__ = ["REFUSED_CLOSE_CODE", "AgentConfig", "AgentSession", "Close", "Outgoing", "Phase"]


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
        transcript = Transcript(session_id, start)
        self._s = SessionState(session_id, spec, config, transcript, OutgoingStream(transcript))
        transcript.session = spec_summary(spec) if spec else None
        transcript.agent = {
            "agent_version": self._s.agent_version(),
            "handshake_timeout_s": config.handshake_timeout_s,
            "idle_timeout_s": config.idle_timeout_s,
        }
        self._stream = StreamPhase(self._s)
        self._handshake = Handshake(self._s, self._stream.start)
        self._inputs = InputSequence(
            transcript,
            self._s.out,
            self._process,
            self._handshake.run_deferred,
            lambda: self.closed or self._s.phase is Phase.KMS,  # KMS: resumes after kms_done
        )
        self._last_activity = start
        self._last_resend = start

    # -- what the I/O layer reads -----------------------------------------------------------

    @property
    def session_id(self) -> str:
        return self._s.session_id

    @property
    def spec(self) -> SessionSpec | None:
        """What StartSession promised (a resumed connection may bring a newer one)."""
        return self._s.spec

    @property
    def transcript(self) -> Transcript:
        return self._s.transcript

    @property
    def closed(self) -> bool:
        return self._s.closed

    @property
    def awaiting_resume(self) -> bool:
        """The websocket was dropped on purpose; a resumed connection may take over."""
        return self._s.awaiting_resume

    @property
    def pending_kms(self) -> list[KmsRequest]:
        """KMS calls the I/O layer must make, then report with :meth:`kms_done`."""
        return self._handshake.pending_kms

    def take_outgoing(self) -> list[Outgoing]:
        return self._s.out.take()

    # -- what the I/O layer feeds in --------------------------------------------------------

    def receive_text(self, text: str, now: float) -> None:
        """A text frame: only the first frame, OpenDataChannel, may be text."""
        self._last_activity = now
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        self.transcript.text_frame(now, body if body is not None else text)
        if self._s.phase is not Phase.AWAIT_OPEN or not isinstance(body, dict):
            self.transcript.errors.append("unexpected text frame")
            if self._s.phase is Phase.AWAIT_OPEN:
                self._s.refuse(now, "protocol-error", "OpenDataChannel is not a JSON object")
            return
        self._open(body, now)

    def receive_binary(self, data: bytes, now: float) -> None:
        """A binary ClientMessage frame."""
        self._last_activity = now
        if self._s.phase is Phase.AWAIT_OPEN:
            self.transcript.errors.append("binary frame before OpenDataChannel")
            self._s.refuse(now, "protocol-error", "binary frame before OpenDataChannel")
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
            self._s.out.acknowledged(message, now)
        elif message.message_type == MessageType.INPUT:
            self._inputs.receive(message, now)
        else:
            self.transcript.message(now, "in", message, ignored=True)

    def kms_done(self, results: list[KmsResult], now: float) -> None:
        """The answers to :attr:`pending_kms`, in order.

        The client's idle time starts again here: while the agent's own ``kms:Decrypt`` ran
        (seconds on a loaded machine), the client was waiting for the agent, not idle.
        """
        self._handshake.kms_done(results, now)
        self._last_activity = now
        self._inputs.drain(now)

    def tick(self, now: float) -> None:
        """Deadlines and resends."""
        if self.closed or self._handshake.expired(now):
            return
        if self._stream.tick(now, self._handshake.plugin_ready_at):
            return
        idle = self._s.config.idle_timeout_s
        if now - self._last_activity >= idle:
            if self._s.phase is Phase.AWAIT_OPEN:
                self._s.refuse(now, "no-open-data-channel", "no OpenDataChannel frame")
                return
            self.transcript.decide(now, "idle-timeout", after_s=idle)
            self._s.close_channel(now, "idle-timeout", "")
            return
        if now - self._last_resend >= self._s.config.resend_interval_s / 2:
            self._last_resend = now
            self._s.out.resend(self._s.config.resend_interval_s, now)

    def next_wakeup(self, now: float) -> float:
        """Seconds until :meth:`tick` has something to do (an upper bound for a poll)."""
        wait = min(self._s.config.resend_interval_s / 2, 0.1)
        ready_at = self._handshake.plugin_ready_at
        if self._s.phase is Phase.READY and ready_at is not None:
            wait = min(wait, ready_at - now)
        return max(0.0, wait)

    def connection_lost(self, now: float, outcome: SessionOutcome = "client-disconnected") -> None:
        """The websocket went away without a ``channel_closed`` from us."""
        if not self.closed:
            self.transcript.decide(now, outcome, phase=self._s.phase.value)
            self.transcript.finish(now, outcome, None)
            self._s.phase = Phase.CLOSED

    def fail(self, now: float, error: str, *details: str) -> None:
        """An internal fault: recorded (with ``details`` such as a traceback), and the channel
        closed as an agent failure."""
        self.transcript.faults.extend((error, *details))
        if not self.closed:
            self._s.close_channel(now, "agent-error", texts.truncate_output("", error))

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
        self._s.spec = spec
        self._s.awaiting_resume = False
        self._s.out.resend(0.0, now)
        return True

    # -- inside -----------------------------------------------------------------------------

    def _open(self, body: dict[str, Any], now: float) -> None:
        """OpenDataChannel: the client's facts for the record, then the token MGS demands."""
        client = self.transcript.client
        client["open_data_channel"] = True
        client["client_version_sent"] = "ClientVersion" in body
        client["client_version"] = body.get("ClientVersion")
        client["client_id"] = body.get("ClientId")
        client["request_id"] = body.get("RequestId")
        client["message_schema_version"] = body.get("MessageSchemaVersion")
        spec = self._s.spec
        if spec is None:
            client["token_ok"] = False
            self.transcript.decide(now, "token-checked", ok=False, reason="unknown session")
            self._s.refuse(now, "unknown-session", "unknown session")
            return
        ok = body.get("TokenValue") == spec.token_value
        client["token_ok"] = ok
        self.transcript.decide(now, "token-checked", ok=ok)
        if not ok:
            self._s.refuse(now, "bad-token", "invalid token")
            return
        self._handshake.begin(spec, now)

    def _process(self, message: ClientMessage, now: float, record: bool) -> bool:
        """Handle one in-order message; False: not handled, leave it unacked."""
        plaintext: bytes | None = None
        cipher = self._s.out.cipher
        if cipher is not None and message.payload_type == PayloadType.OUTPUT:
            try:
                plaintext = cipher.decrypt(message.payload)
            except DecryptError:
                self._undecryptable(message, now)
                return False
        # A message handled from the buffer was recorded on arrival without its plaintext.
        extra = {} if record else {"from_buffer": True}
        self.transcript.message(now, "in", message, plaintext, **extra)
        handled = self._handshake.process(message, now)
        if handled is not None:
            return handled
        body = message.payload if plaintext is None else plaintext
        return self._stream.process(message.payload_type, body, message.sequence_number, now)

    def _undecryptable(self, message: ClientMessage, now: float) -> None:
        """Client output the session's key does not open: left unacked, so it comes again."""
        seq = message.sequence_number
        self.transcript.message(now, "in", message, error="undecryptable")
        self.transcript.decide(
            now, "decrypt-failed", seq=seq, error=texts.decrypt_stream_failed(seq)
        )
