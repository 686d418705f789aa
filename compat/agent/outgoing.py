"""The frames the agent sends: numbered stream messages, acks, resends and the close.

One queue for everything the session hands its I/O layer (``take``), kept apart so that the
numbering, encryption and resending of output (datachannel.go:404-431, 520-560) are written
once, whichever phase of the session sends.
"""

from __future__ import annotations

from compat.agent.channel import ENCRYPTED_OUT, Close, Outgoing
from compat.agent.transcript import Transcript
from fake_plugin.crypto import SessionCipher
from fake_plugin.errors import WireError
from fake_plugin.wire import (
    FLAGS_SYN,
    ClientMessage,
    MessageType,
    Outbox,
    ack_for,
    channel_closed,
    encode,
    parse_ack,
)

__all__ = ["OutgoingStream"]


class OutgoingStream:
    """The session's outgoing frames, each recorded in the transcript as it is queued."""

    def __init__(self, transcript: Transcript) -> None:
        self._transcript = transcript
        self._frames: list[Outgoing] = []
        self._outbox = Outbox(MessageType.OUTPUT)
        #: Set once the handshake has the data key: output is encrypted from then on.
        self.cipher: SessionCipher | None = None

    @property
    def unacked(self) -> int:
        """Stream messages sent and not yet acknowledged by the client."""
        return self._outbox.pending

    def take(self) -> list[Outgoing]:
        frames, self._frames = self._frames, []
        return frames

    def send(self, payload_type: int, payload: bytes, now: float) -> int | None:
        """Number, encrypt if due, queue and remember one stream message; empty is skipped
        (SendStreamDataMessage ignores empty payloads, datachannel.go:406-409)."""
        if not payload:
            return None
        wire_payload = payload
        if self.cipher is not None and payload_type in ENCRYPTED_OUT:
            wire_payload = self.cipher.encrypt(payload)
        flags = FLAGS_SYN if self._outbox.next_seq == 0 else 0
        # The session's clock, not the machine's: sans-I/O callers pass any epoch.
        message = self._outbox.message(payload_type, wire_payload, flags=flags, now=now)
        self._frames.append(encode(message))
        plaintext = payload if wire_payload is not payload else None
        self._transcript.message(now, "out", message, plaintext)
        return message.sequence_number

    def resend(self, after_s: float, now: float) -> None:
        """Send again every message unacked for ``after_s`` (0: all of them)."""
        for message in self._outbox.due(after_s, now):
            self._frames.append(encode(message))
            self._transcript.message(now, "out", message, resent=True)

    def ack(self, message: ClientMessage, now: float) -> None:
        """Acknowledge one client message."""
        ack = ack_for(message)
        self._frames.append(encode(ack))
        self._transcript.message(now, "out", ack)

    def acknowledged(self, message: ClientMessage, now: float) -> None:
        """The client's ack of one of ours: that message is no longer resent."""
        try:
            ack = parse_ack(message)
        except WireError as exc:
            self._transcript.message(now, "in", message, error=str(exc))
            return
        known = self._outbox.acknowledged(ack.sequence_number)
        self._transcript.message(now, "in", message, known=known)

    def channel_closed(self, session_id: str, output: str, now: float) -> None:
        """What MGS sends when the agent reports the task done: ``channel_closed``, then the
        websocket's close."""
        message = channel_closed(session_id, output)
        self._frames.append(encode(message))
        self._frames.append(Close(1000, ""))
        self._transcript.message(now, "out", message)

    def close(self, code: int, reason: str) -> None:
        """Close the websocket with no ``channel_closed`` (a refusal or a drop)."""
        self._frames.append(Close(code, reason))
