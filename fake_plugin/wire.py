"""The data channel's binary ClientMessage framing: bytes in, messages out, no I/O.

Both ends of the fake data channel (the plugin's session client and the fake agent) speak
through this module. Layout, validation and ack rules: docs/plugin.md §3.2 and §3.3
(``SMP:src/message/clientmessage.go``, ``messageparser.go``).
"""

from __future__ import annotations

import hashlib
import json
import struct
import time
import uuid
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from fake_plugin.errors import WireError

#: HeaderLength as sent: the offset of PayloadLength, counted from byte 4 (clientmessage.go).
HEADER_LENGTH = 116
_MESSAGE_TYPE_LEN = 32
#: Offsets of the fixed header fields (messageparser.go:36-84).
_TYPE_AT, _SCHEMA_AT, _DATE_AT, _SEQ_AT, _FLAGS_AT, _ID_AT, _DIGEST_AT, _PTYPE_AT = (
    4,
    36,
    40,
    48,
    56,
    64,
    80,
    112,
)


class MessageType(StrEnum):
    """The ``MessageType`` header values (clientmessage.go:22-41)."""

    INPUT = "input_stream_data"
    OUTPUT = "output_stream_data"
    ACK = "acknowledge"
    CHANNEL_CLOSED = "channel_closed"
    START_PUBLICATION = "start_publication"
    PAUSE_PUBLICATION = "pause_publication"


class PayloadType(IntEnum):
    """The ``PayloadType`` header values (clientmessage.go:75-88)."""

    OUTPUT = 1
    ERROR = 2
    SIZE = 3
    PARAMETER = 4
    HANDSHAKE_REQUEST = 5
    HANDSHAKE_RESPONSE = 6
    HANDSHAKE_COMPLETE = 7
    ENC_CHALLENGE_REQUEST = 8
    ENC_CHALLENGE_RESPONSE = 9
    FLAG = 10
    STDERR = 11
    EXIT_CODE = 12


class Flag(IntEnum):
    """Flag payloads, a big-endian uint32 (clientmessage.go:92-96)."""

    DISCONNECT_TO_PORT = 1
    TERMINATE_SESSION = 2
    CONNECT_TO_PORT_ERROR = 3


#: Header ``Flags`` values: the agent sets SYN on its seq 0, the plugin 3 on its acks.
FLAGS_SYN = 1
FLAGS_ACK = 3


def now_ms() -> int:
    """CreatedDate: epoch milliseconds (must be non-zero on receive)."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class ClientMessage:
    """One binary frame of the data channel, in either direction."""

    message_type: str
    sequence_number: int
    payload_type: int
    payload: bytes
    flags: int = 0
    message_id: uuid.UUID = field(default_factory=uuid.uuid4)
    schema_version: int = 1
    created_date: int = field(default_factory=now_ms)

    def json(self) -> Any:
        """The payload decoded as JSON (handshake, ack and channel_closed payloads are JSON)."""
        return json.loads(self.payload)


def _uuid_to_wire(value: uuid.UUID) -> bytes:
    # putUuid writes the least significant half first (messageparser.go:416-453).
    raw = value.bytes
    return raw[8:] + raw[:8]


def _uuid_from_wire(raw: bytes) -> uuid.UUID:
    return uuid.UUID(bytes=raw[8:] + raw[:8])


def encode(message: ClientMessage) -> bytes:
    """Serialize as the real plugin does: type right-padded with spaces, SHA-256 digest."""
    name = message.message_type.encode("ascii")
    if len(name) > _MESSAGE_TYPE_LEN:
        raise WireError(f"message type longer than {_MESSAGE_TYPE_LEN} bytes: {name!r}")
    return b"".join(
        (
            struct.pack(">I", HEADER_LENGTH),
            name.ljust(_MESSAGE_TYPE_LEN, b" "),
            struct.pack(
                ">IQqQ",
                message.schema_version,
                message.created_date,
                message.sequence_number,
                message.flags,
            ),
            _uuid_to_wire(message.message_id),
            hashlib.sha256(message.payload).digest(),
            struct.pack(">II", message.payload_type, len(message.payload)),
            message.payload,
        )
    )


def decode(data: bytes) -> ClientMessage:
    """Parse and validate one frame; :class:`WireError` where the real parser drops it."""
    if len(data) < _PTYPE_AT + 4:
        raise WireError(f"frame of {len(data)} bytes is shorter than the header")
    (header_length,) = struct.unpack_from(">I", data, 0)
    name = data[_TYPE_AT : _TYPE_AT + _MESSAGE_TYPE_LEN].decode("ascii", "replace")
    message_type = name.strip(" \x00\t\r\n")
    schema, created, seq, flags = struct.unpack_from(">IQqQ", data, _SCHEMA_AT)
    message_id = _uuid_from_wire(data[_ID_AT : _ID_AT + 16])
    digest = data[_DIGEST_AT : _DIGEST_AT + 32]
    (payload_type,) = struct.unpack_from(">I", data, _PTYPE_AT)
    if len(data) < header_length + 4:
        raise WireError("frame ends before its PayloadLength field")
    (payload_length,) = struct.unpack_from(">I", data, header_length)
    start = header_length + 4
    payload = data[start : start + payload_length]
    if len(payload) != payload_length:
        raise WireError(f"payload is {len(payload)} bytes, header says {payload_length}")
    # Validate (messageparser.go:225-247): publication messages are exempt.
    if message_type not in (MessageType.START_PUBLICATION, MessageType.PAUSE_PUBLICATION):
        if header_length == 0 or not message_type or created == 0:
            raise WireError("missing HeaderLength, MessageType or CreatedDate")
        if payload_length and hashlib.sha256(payload).digest() != digest:
            raise WireError("payload digest does not match")
    return ClientMessage(
        message_type=message_type,
        sequence_number=seq,
        payload_type=payload_type,
        payload=payload,
        flags=flags,
        message_id=message_id,
        schema_version=schema,
        created_date=created,
    )


def go_json(value: Any) -> bytes:
    """JSON as Go's ``json.Marshal`` writes it: compact, key order kept, HTML-safe escapes."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text.encode("utf-8")


def ack_for(message: ClientMessage) -> ClientMessage:
    """The acknowledge frame for ``message`` (messageparser.go:488-515): seq 0, Flags 3."""
    payload = go_json(
        {
            "AcknowledgedMessageType": message.message_type,
            "AcknowledgedMessageId": str(message.message_id),
            "AcknowledgedMessageSequenceNumber": message.sequence_number,
            "IsSequentialMessage": True,
        }
    )
    return ClientMessage(MessageType.ACK, 0, 0, payload, flags=FLAGS_ACK)


@dataclass(frozen=True)
class Ack:
    """The fields of an acknowledge payload."""

    message_type: str
    message_id: str
    sequence_number: int


def parse_ack(message: ClientMessage) -> Ack:
    """Read an acknowledge frame; :class:`WireError` if its payload is not an ack."""
    try:
        body = message.json()
        return Ack(
            str(body["AcknowledgedMessageType"]),
            str(body["AcknowledgedMessageId"]),
            int(body["AcknowledgedMessageSequenceNumber"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise WireError(f"not an acknowledge payload: {message.payload[:80]!r}") from exc


def channel_closed(session_id: str, output: str) -> ClientMessage:
    """A ``channel_closed`` frame; the plugin prints ``Output`` (clientmessage.go:63-71)."""
    message_id = uuid.uuid4()
    payload = go_json(
        {
            "MessageId": str(message_id),
            "CreatedDate": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "DestinationId": session_id,
            "SessionId": session_id,
            "MessageType": MessageType.CHANNEL_CLOSED.value,
            "SchemaVersion": 1,
            "Output": output,
        }
    )
    return ClientMessage(MessageType.CHANNEL_CLOSED, 0, 0, payload, message_id=message_id)


def flag_payload(flag: Flag) -> bytes:
    """The 4-byte body of a Flag message."""
    return struct.pack(">I", flag)


def open_data_channel(
    token: str, client_id: str, request_id: str, client_version: str | None
) -> str:
    """The first, *text* frame a client sends (streaming.go:201-221, service.go:18-35).

    ``client_version`` is sent only by releases from 1.2.677.0 (commit 9b57835a).
    """
    body: dict[str, str] = {
        "MessageSchemaVersion": "1.0",
        "RequestId": request_id,
        "TokenValue": token,
        "ClientId": client_id,
    }
    if client_version is not None:
        body["ClientVersion"] = client_version
    return go_json(body).decode("utf-8")


class Inbox:
    """In-order delivery of incoming stream data (streaming.go:608-717).

    ``receive`` returns the messages now deliverable in sequence order; a message ahead of
    the expected one is buffered, one behind it is a duplicate and dropped. The caller acks.
    """

    def __init__(self, capacity: int = 10000) -> None:
        self.expected = 0
        self._buffer: dict[int, ClientMessage] = {}
        self._capacity = capacity

    def receive(self, message: ClientMessage) -> list[ClientMessage]:
        seq = message.sequence_number
        if seq < self.expected:
            return []
        if seq > self.expected:
            if len(self._buffer) < self._capacity:
                self._buffer.setdefault(seq, message)
            return []
        delivered = [message]
        self.expected += 1
        while self.expected in self._buffer:
            delivered.append(self._buffer.pop(self.expected))
            self.expected += 1
        return delivered


class Outbox:
    """Outgoing stream data: one sequence counter, and the unacked messages to resend.

    The plugin resends anything unacked for longer than the retransmission timeout, checked
    every 100 ms (streaming.go:333-362, config.go:22-33).
    """

    def __init__(self, message_type: str) -> None:
        self.message_type = message_type
        self.next_seq = 0
        self._unacked: dict[int, tuple[ClientMessage, float]] = {}

    def message(
        self, payload_type: int, payload: bytes, flags: int = 0, *, now: float | None = None
    ) -> ClientMessage:
        """Number the next message and remember it until acked, sent at ``now`` (the clock
        :meth:`due` is given; ``time.monotonic()`` when omitted)."""
        msg = ClientMessage(self.message_type, self.next_seq, payload_type, payload, flags=flags)
        self.next_seq += 1
        sent = time.monotonic() if now is None else now
        self._unacked[msg.sequence_number] = (msg, sent)
        return msg

    def acknowledged(self, sequence_number: int) -> bool:
        """Forget an acked message; False if it was not outstanding."""
        return self._unacked.pop(sequence_number, None) is not None

    def due(self, rto_s: float, now: float | None = None) -> list[ClientMessage]:
        """Messages unacked for longer than ``rto_s``; their clocks restart."""
        clock = time.monotonic() if now is None else now
        late = [m for m, sent in self._unacked.values() if clock - sent >= rto_s]
        for msg in late:
            self._unacked[msg.sequence_number] = (msg, clock)
        return late

    @property
    def pending(self) -> int:
        return len(self._unacked)
