"""The agent's incoming sequence: handle in order, *then* ack; buffer the early, re-ack the old.

Agent sequencing (datachannel.go:695-740). Unlike the plugin (``wire.Inbox``), the agent acks a
message only after handling it succeeded, and a failure leaves the expected number where it
was, so the client resends. That is why this does not use ``Inbox``. A handler that is not
ready (``ErrHandlerNotReady``, :697-699) is such a failure: no ack, nothing sent back.
"""

from __future__ import annotations

from collections.abc import Callable

from compat.agent.outgoing import OutgoingStream
from compat.agent.transcript import Transcript
from fake_plugin.wire import ClientMessage

__all__ = ["InputSequence"]

#: Handles one in-order message (``record``: it was not recorded on arrival); False: it was
#: not handled, leave it unacked.
Handle = Callable[[ClientMessage, float, bool], bool]


class InputSequence:
    """The client's stream messages by sequence number, each handled once and in order."""

    def __init__(
        self,
        transcript: Transcript,
        out: OutgoingStream,
        handle: Handle,
        after: Callable[[float], None],
        paused: Callable[[], bool],
    ) -> None:
        """``after`` runs once a message was handled and acked (the work the real agent does
        then); while ``paused`` (closed, or waiting on KMS) the buffer is left alone."""
        self._transcript = transcript
        self._out = out
        self._handle = handle
        self._after = after
        self._paused = paused
        self._expected = 0
        self._buffer: dict[int, ClientMessage] = {}
        #: What was handled at each sequence number: (payload type, payload), to tell a resend
        #: (the same bytes) from a second message the client numbered the same.
        self._handled: dict[int, tuple[int, bytes]] = {}

    def receive(self, message: ClientMessage, now: float) -> None:
        """One ``input_stream_data`` message as it arrived."""
        seq = message.sequence_number
        if seq < self._expected:
            self._transcript.message(now, "in", message, duplicate=True)
            self._note_reuse(message, now)
            self._out.ack(message, now)
            return
        if seq > self._expected:
            self._transcript.message(now, "in", message, buffered=True)
            self._buffer.setdefault(seq, message)
            self._out.ack(message, now)
            return
        if not self._handle(message, now, True):
            return
        self._handled[seq] = (message.payload_type, message.payload)
        self._out.ack(message, now)
        self._expected += 1
        self._after(now)
        self.drain(now)

    def drain(self, now: float) -> None:
        """Handle buffered messages now in order (processIncomingMessageBufferItems)."""
        while self._expected in self._buffer and not self._paused():
            buffered = self._buffer.pop(self._expected)
            if not self._handle(buffered, now, False):
                self._buffer[self._expected] = buffered
                return
            self._handled[self._expected] = (buffered.payload_type, buffered.payload)
            self._expected += 1
            self._after(now)

    def _note_reuse(self, message: ClientMessage, now: float) -> None:
        """An old number with other bytes: acked as a duplicate and dropped, as the real agent
        does; noted, because the input it carried is lost through no fault of the caller."""
        seq = message.sequence_number
        first = self._handled.get(seq)
        if first is not None and first != (message.payload_type, message.payload):
            self._transcript.decide(
                now,
                "sequence-reused",
                seq=seq,
                kept_payload_type=first[0],
                lost_payload_type=message.payload_type,
            )
