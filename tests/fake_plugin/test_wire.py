"""The ClientMessage codec, byte for byte against docs/plugin.md §3.2-§3.3."""

from __future__ import annotations

import hashlib
import struct
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fake_plugin import wire
from fake_plugin.crypto import SessionCipher
from fake_plugin.errors import DecryptError, WireError
from fake_plugin.wire import ClientMessage, Inbox, MessageType, Outbox, PayloadType

MSG_ID = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")


def _message(**changes: object) -> ClientMessage:
    fields: dict[str, object] = {
        "message_type": MessageType.OUTPUT,
        "sequence_number": 7,
        "payload_type": PayloadType.OUTPUT,
        "payload": b"hello\n",
        "flags": 1,
        "message_id": MSG_ID,
        "created_date": 1_700_000_000_123,
    }
    fields.update(changes)
    return ClientMessage(**fields)  # type: ignore[arg-type]


def test_header_layout_matches_the_spec_table() -> None:
    """§3.2: offsets, space padding, swapped UUID halves, SHA-256 digest, big-endian."""
    data = wire.encode(_message())
    assert struct.unpack_from(">I", data, 0) == (116,)
    assert data[4:36] == b"output_stream_data".ljust(32, b" ")
    assert struct.unpack_from(">I", data, 36) == (1,)
    assert struct.unpack_from(">Q", data, 40) == (1_700_000_000_123,)
    assert struct.unpack_from(">q", data, 48) == (7,)
    assert struct.unpack_from(">Q", data, 56) == (1,)
    assert data[64:80] == bytes.fromhex("8899aabbccddeeff0011223344556677")
    assert data[80:112] == hashlib.sha256(b"hello\n").digest()
    assert struct.unpack_from(">II", data, 112) == (1, 6)
    assert data[120:] == b"hello\n"
    assert len(data) == 126


@given(
    message_type=st.sampled_from(list(MessageType)),
    seq=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    payload_type=st.integers(min_value=0, max_value=2**32 - 1),
    payload=st.binary(max_size=300),
    flags=st.integers(min_value=0, max_value=2**64 - 1),
)
def test_decode_inverts_encode(
    message_type: str, seq: int, payload_type: int, payload: bytes, flags: int
) -> None:
    msg = _message(
        message_type=message_type,
        sequence_number=seq,
        payload_type=payload_type,
        payload=payload,
        flags=flags,
        message_id=uuid.uuid4(),
    )
    assert wire.decode(wire.encode(msg)) == msg


def test_a_wrong_digest_is_dropped() -> None:
    data = bytearray(wire.encode(_message()))
    data[-1] ^= 0xFF
    with pytest.raises(WireError, match="digest"):
        wire.decode(bytes(data))


def test_publication_messages_are_exempt_from_validation() -> None:
    """messageparser.go Validate skips start_publication and pause_publication."""
    data = wire.encode(_message(message_type=MessageType.START_PUBLICATION, created_date=0))
    assert wire.decode(data).message_type == "start_publication"
    with pytest.raises(WireError, match="CreatedDate"):
        wire.decode(wire.encode(_message(created_date=0)))


@pytest.mark.parametrize("cut", [0, 10, 119, 125])
def test_truncated_frames_are_errors_not_crashes(cut: int) -> None:
    with pytest.raises(WireError):
        wire.decode(wire.encode(_message())[:cut])


def test_ack_has_the_observed_shape() -> None:
    """messageparser.go:488-515: acknowledge, seq 0, Flags 3, PayloadType 0."""
    ack = wire.ack_for(_message())
    assert (ack.message_type, ack.sequence_number, ack.flags, ack.payload_type) == (
        "acknowledge",
        0,
        3,
        0,
    )
    assert ack.payload == (
        b'{"AcknowledgedMessageType":"output_stream_data",'
        b'"AcknowledgedMessageId":"00112233-4455-6677-8899-aabbccddeeff",'
        b'"AcknowledgedMessageSequenceNumber":7,"IsSequentialMessage":true}'
    )
    assert wire.parse_ack(ack) == wire.Ack("output_stream_data", str(MSG_ID), 7)


def test_open_data_channel_client_version_only_when_given() -> None:
    """§3.1: ClientVersion from 1.2.677.0 only; key order as the Go struct."""
    assert wire.open_data_channel("tok", "cid", "rid", None) == (
        '{"MessageSchemaVersion":"1.0","RequestId":"rid","TokenValue":"tok","ClientId":"cid"}'
    )
    assert wire.open_data_channel("tok", "cid", "rid", "1.2.677.0").endswith(
        ',"ClientVersion":"1.2.677.0"}'
    )


def test_go_json_escapes_like_go() -> None:
    assert wire.go_json({"a": "<&>"}) == b'{"a":"\\u003c\\u0026\\u003e"}'


def test_inbox_delivers_in_order_and_drops_duplicates() -> None:
    inbox = Inbox()
    m0, m1, m2 = (_message(sequence_number=n) for n in range(3))
    assert inbox.receive(m1) == []
    assert inbox.receive(m0) == [m0, m1]
    assert inbox.receive(m0) == []
    assert inbox.receive(m2) == [m2]
    assert inbox.expected == 3


def test_outbox_numbers_from_zero_and_resends_until_acked() -> None:
    outbox = Outbox(MessageType.INPUT)
    first = outbox.message(PayloadType.HANDSHAKE_RESPONSE, b"{}")
    second = outbox.message(PayloadType.SIZE, b"{}")
    assert (first.sequence_number, second.sequence_number) == (0, 1)
    assert outbox.due(0.2, now=0.0) == []
    assert outbox.acknowledged(0)
    assert not outbox.acknowledged(0)
    late = outbox.due(0.2, now=10**9)
    assert late == [second]
    assert outbox.pending == 1


@pytest.mark.parametrize("epoch", [0.0, 1000.0, 10.0**9])
def test_outbox_resends_by_the_callers_clock_whatever_its_epoch(epoch: float) -> None:
    """A message sent at ``now`` is not due until ``now + rto``, whatever the machine's
    monotonic clock reads (a fresh machine's is small: sans-I/O sessions at T0 = 1000 s saw
    every message overdue at once and resent it)."""
    outbox = Outbox(MessageType.OUTPUT)
    sent = outbox.message(PayloadType.OUTPUT, b"# ", now=epoch)
    assert outbox.due(0.25, now=epoch) == []
    assert outbox.due(0.25, now=epoch + 0.2) == []
    assert outbox.due(0.25, now=epoch + 0.25) == [sent]


def test_cipher_halves_agent_to_client_and_back() -> None:
    """§3.6: first half encrypts agent->client, second half client->agent."""
    key = bytes(range(64))
    client, agent = SessionCipher(key, "client"), SessionCipher(key, "agent")
    assert client.decrypt(agent.encrypt(b"hello")) == b"hello"
    assert agent.decrypt(client.encrypt(b"whoami\n")) == b"whoami\n"
    with pytest.raises(DecryptError):
        client.decrypt(client.encrypt(b"own half"))
