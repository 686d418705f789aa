"""The plugin's data-channel state: sequencing, acks, resends, handshake and encryption.

A port of the client side of ``SMP:src/datachannel/streaming.go`` (docs/plugin.md §3.3-§3.6)
over :mod:`fake_plugin.wire`. It does no I/O itself: frames go out through the ``send``
callback and text through ``display``; KMS is the injected ``kms`` callable. Quirks kept on
purpose: handshake payloads are acked *before* they are handled (``:618-655``), other stream
data only once a session handler is ready (``:673-686``); buffered messages are handed to the
handlers without the handshake special cases (``:722-758``); only the *oldest* unacked
message is resent, measured from its first send (``:333-362``, the ``LastSentTime`` update is
lost on a copy). What the HandshakeResponse says to each requested action (an unknown one
gets ``ActionResult: 3`` with ``ActionStatus`` left 0) is :mod:`fake_plugin.actions`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fake_plugin import actions, wire
from fake_plugin.actions import SHELL, get_ci
from fake_plugin.errors import DecryptError, KmsError, WireError
from fake_plugin.handshake import HandshakeRequest, challenge_payload, unb64
from fake_plugin.kms import encryption_context
from fake_plugin.wire import ClientMessage, MessageType, PayloadType

#: config.go:22-33.
DEFAULT_RTO_S = 0.2
DEFAULT_RTT_S = 0.1
MAX_RTO_S = 1.0
CLOCK_GRANULARITY_S = 0.01
#: The resend scheduler's tick (``ResendStreamDataMessageScheduler``): ``session._resend_loop``.
RESEND_INTERVAL_S = 0.1
RESEND_MAX_ATTEMPTS = 3000
BUFFER_CAPACITY = 10000

#: A stream-data handler: returns whether the session handler was ready for the message.
Handler = Callable[[ClientMessage], bool]


@dataclass(frozen=True)
class DataKey:
    """GenerateDataKey's answer as the data channel needs it."""

    ciphertext: bytes
    plaintext: bytes


@dataclass
class _Sent:
    message: ClientMessage
    frame: bytes
    first_sent: float
    attempts: int = 0


class ClientDataChannel:
    """The client end of one data channel (``DataChannel`` in streaming.go)."""

    def __init__(
        self,
        *,
        session_id: str,
        target_id: str,
        client_version: str,
        legacy_cli: bool,
        decrypted_payload_types: tuple[int, ...],
        send: Callable[[bytes], None],
        display: Callable[[bytes], None],
        kms: Callable[[str, dict[str, str]], DataKey],
        on_session_type: Callable[[bool], None],
        on_closed: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session_id = session_id
        self.target_id = target_id
        self.client_version = client_version
        self.legacy_cli = legacy_cli
        self.decrypted_payload_types = decrypted_payload_types
        self._send = send
        self._display = display
        self._kms = kms
        self._on_session_type = on_session_type
        self._on_closed = on_closed
        self._clock = clock
        self._lock = threading.RLock()
        self.expected = 0
        self._buffer: dict[int, ClientMessage] = {}
        self._next_seq = 0
        self._outgoing: dict[int, _Sent] = {}
        self.rtt = DEFAULT_RTT_S
        self.rttvar = 0.0
        self.rto = DEFAULT_RTO_S
        self.session_type = ""
        self.session_properties: Any = None
        self.agent_version = ""
        self.encryption_enabled = False
        self._cipher: Any = None
        #: Handlers in registration order; ProcessFirstMessage first (sessionhandler.go:46).
        self._handlers: list[Handler] = [self._process_first_message]
        self.session_handler_set = False
        #: Port sessions drop stream data until a local connection exists (portsession.go:96-107).
        self.drop_stream_data = False
        #: Set when the Go listener goroutine would have died (a recovered panic).
        self.dead = False

    # -- outgoing ---------------------------------------------------------------------------

    def send_input(self, payload_type: int, payload: bytes) -> None:
        """``SendInputDataMessage`` (streaming.go:272-329): rewrite, encrypt Output, number."""
        if payload == b"\n":
            payload = b"\r"
        if self.encryption_enabled and payload_type == PayloadType.OUTPUT:
            payload = self._cipher.encrypt(payload)
        with self._lock:
            message = ClientMessage(
                MessageType.INPUT, self._next_seq, payload_type, payload, flags=0
            )
            frame = wire.encode(message)
            self._send(frame)
            self._outgoing[message.sequence_number] = _Sent(message, frame, self._clock())
            self._next_seq += 1

    def send_flag(self, flag: wire.Flag) -> None:
        """``SendFlag`` (streaming.go:262-269)."""
        self.send_input(PayloadType.FLAG, wire.flag_payload(flag))

    def resend_due(self) -> bool:
        """One tick of the resend scheduler; True once the oldest message hit the limit."""
        with self._lock:
            if not self._outgoing:
                return False
            oldest = self._outgoing[min(self._outgoing)]
            if self._clock() - oldest.first_sent <= self.rto:
                return False
            limit = oldest.attempts >= RESEND_MAX_ATTEMPTS
            oldest.attempts += 1
            self._send(oldest.frame)
            return limit

    @property
    def pending(self) -> int:
        """Outgoing messages not yet acknowledged by the agent."""
        return len(self._outgoing)

    def _ack(self, message: ClientMessage) -> None:
        with self._lock:
            self._send(wire.encode(wire.ack_for(message)))

    # -- incoming ---------------------------------------------------------------------------

    def register_handler(self, handler: Handler) -> None:
        """``RegisterOutputStreamHandler(handler, true)``: the session-specific handler."""
        with self._lock:
            self._handlers.append(handler)
            self.session_handler_set = True

    def set_session_type(self, session_type: str) -> None:
        """``SetSessionType`` (streaming.go:900-903), used by the first-message fallback."""
        self.session_type = session_type
        self._on_session_type(True)

    def receive(self, raw: bytes) -> None:
        """``OutputMessageHandler`` (streaming.go:404-431) for one websocket frame."""
        if self.dead:
            return
        try:
            message = wire.decode(raw)
        except WireError:
            return  # logged and dropped, no ack
        kind = message.message_type
        if kind == MessageType.OUTPUT:
            if self.drop_stream_data:
                return
            self._on_output(message)
        elif kind == MessageType.ACK:
            self._on_ack(message)
        elif kind == MessageType.CHANNEL_CLOSED:
            try:
                output = get_ci(message.json(), "Output")
            except ValueError:
                output = None
            self._on_closed(output if isinstance(output, str) else "")

    def _on_ack(self, message: ClientMessage) -> None:
        try:
            ack = wire.parse_ack(message)
        except WireError:
            return
        with self._lock:
            sent = self._outgoing.pop(ack.sequence_number, None)
            if sent is None:
                return
            # CalculateRetransmissionTimeout (streaming.go:830-846), RFC 6298 style.
            sample = self._clock() - sent.first_sent
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.rtt - sample)
            self.rtt = 0.875 * self.rtt + 0.125 * sample
            self.rto = min(MAX_RTO_S, self.rtt + max(CLOCK_GRANULARITY_S, 4 * self.rttvar))

    def _on_output(self, message: ClientMessage) -> None:
        seq = message.sequence_number
        if seq == self.expected:
            kind = message.payload_type
            handled: Callable[[ClientMessage], None] | None = {
                PayloadType.HANDSHAKE_REQUEST: self._handle_handshake_request,
                PayloadType.HANDSHAKE_COMPLETE: self._handle_handshake_complete,
                PayloadType.ENC_CHALLENGE_REQUEST: self._handle_challenge,
            }.get(kind)  # type: ignore[call-overload]
            if handled is not None:
                self._ack(message)
                try:
                    handled(message)
                except _HandlerError:
                    return
            else:
                try:
                    message = self._decrypted(message)
                except _HandlerError:
                    return
                if not self._run_handlers(message):
                    return  # not ready: dropped unacked, expected unchanged
                self._ack(message)
            self.expected += 1
            self._drain()
        elif seq > self.expected and len(self._buffer) < BUFFER_CAPACITY:
            self._ack(message)
            self._buffer[seq] = message

    def _drain(self) -> None:
        # ProcessIncomingMessageBufferItems: no handshake cases, readiness ignored.
        while self.expected in self._buffer:
            try:
                message = self._decrypted(self._buffer[self.expected])
            except _HandlerError:
                return
            self._run_handlers(message)
            del self._buffer[self.expected]
            self.expected += 1

    def _decrypted(self, message: ClientMessage) -> ClientMessage:
        if not (self.encryption_enabled and message.payload_type in self.decrypted_payload_types):
            return message
        try:
            plain = self._cipher.decrypt(message.payload)
        except DecryptError:
            raise _HandlerError from None
        return ClientMessage(
            message.message_type,
            message.sequence_number,
            message.payload_type,
            plain,
            flags=message.flags,
            message_id=message.message_id,
            schema_version=message.schema_version,
            created_date=message.created_date,
        )

    def _run_handlers(self, message: ClientMessage) -> bool:
        # processOutputMessageWithHandlers (streaming.go:592-605).
        if self.session_type and not self.session_handler_set:
            return False
        ready = False
        for handler in list(self._handlers):
            ready = handler(message)
            if not ready:
                break
        return ready

    def _process_first_message(self, message: ClientMessage) -> bool:
        # Session.ProcessFirstMessage (sessionhandler.go:74-87): the no-handshake fallback.
        self._handlers.remove(self._process_first_message)
        if not self.session_type and message.payload_type == PayloadType.OUTPUT:
            self.set_session_type(SHELL)
            self._display(message.payload)
        return True

    # -- handshake --------------------------------------------------------------------------

    def _handle_handshake_request(self, message: ClientMessage) -> None:
        try:
            body = message.json()
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            raise _HandlerError from None
        request = HandshakeRequest.parse(body)
        self.agent_version = request.agent_version
        response = actions.answer(
            request,
            self.client_version,
            kms_action=self._kms_action,
            on_session_type=self._on_handshake_session_type,
        )
        self.send_input(PayloadType.HANDSHAKE_RESPONSE, response.payload())

    def _kms_action(self, parameters: Any) -> bytes:
        if self.legacy_cli:
            raise KmsError(self._legacy_error)
        key_id = get_ci(parameters, "KMSKeyId")
        key_id = key_id if isinstance(key_id, str) else ""
        from fake_plugin.crypto import SessionCipher  # noqa: PLC0415 (cryptography: lazy)

        data_key = self._kms(key_id, encryption_context(self.session_id, self.target_id))
        self._cipher = SessionCipher(data_key.plaintext, role="client")
        self.encryption_enabled = True
        return data_key.ciphertext

    def _on_handshake_session_type(self, session_type: str, properties: Any) -> None:
        self.session_type = session_type
        self.session_properties = properties

    #: Set by the session from the release profile (``legacy_kms_error``).
    _legacy_error = ""

    def set_legacy_error(self, text: str) -> None:
        """The release's text for a KMSEncryption action after a 4-element argv."""
        self._legacy_error = text

    def _handle_handshake_complete(self, message: ClientMessage) -> None:
        try:
            body = message.json()
        except ValueError:
            raise _HandlerError from None
        customer = get_ci(body, "CustomerMessage")
        # handleHandshakeComplete (streaming.go:495-518): Println the message when non-empty.
        if isinstance(customer, str) and customer:
            self._display(customer.encode("utf-8", "surrogateescape") + b"\n")
        self._on_session_type(bool(self.session_type))

    def _handle_challenge(self, message: ClientMessage) -> None:
        try:
            challenge = unb64(str(get_ci(message.json(), "Challenge") or ""))
        except ValueError:
            raise _HandlerError from None
        if self._cipher is None:
            # A nil encrypter: Go panics in the listener goroutine, which recovers and stops.
            self.dead = True
            raise _HandlerError
        try:
            plain = self._cipher.decrypt(challenge)
        except DecryptError:
            raise _HandlerError from None
        self.send_input(
            PayloadType.ENC_CHALLENGE_RESPONSE, challenge_payload(self._cipher.encrypt(plain))
        )


class _HandlerError(Exception):
    """A handler returned an error: the message is not counted as processed."""
