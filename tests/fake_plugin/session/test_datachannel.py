"""The client data channel, fed bytes with no sockets (docs/plugin.md §3.3-§3.5)."""

from __future__ import annotations

import base64
import json
from typing import Any

from fake_plugin import wire
from fake_plugin.crypto import SessionCipher
from fake_plugin.datachannel import ClientDataChannel, DataKey, KmsError
from fake_plugin.handshake import HandshakeRequest, RequestedAction
from fake_plugin.wire import ClientMessage, MessageType, PayloadType


class Harness:
    def __init__(self, *, legacy: bool = False, kms_error: str | None = None) -> None:
        self.sent: list[ClientMessage] = []
        self.shown: list[bytes] = []
        self.types: list[bool] = []
        self.closed: list[str] = []
        self.clock = 0.0
        self.kms_calls: list[tuple[str, dict[str, str]]] = []

        def kms(key_id: str, context: dict[str, str]) -> DataKey:
            self.kms_calls.append((key_id, context))
            if kms_error:
                raise KmsError(kms_error)
            return DataKey(b"blob", bytes(range(64)))

        self.channel = ClientDataChannel(
            session_id="sess-1",
            target_id="i-0123",
            client_version="1.2.677.0",
            legacy_cli=legacy,
            decrypted_payload_types=(1, 11, 12),
            send=lambda frame: self.sent.append(wire.decode(frame)),
            display=self.shown.append,
            kms=kms,
            on_session_type=self.types.append,
            on_closed=self.closed.append,
            clock=lambda: self.clock,
        )
        self.channel.set_legacy_error("LEGACY")

    def feed(self, seq: int, ptype: int, payload: bytes) -> ClientMessage:
        msg = ClientMessage(MessageType.OUTPUT, seq, ptype, payload, flags=1 if seq == 0 else 0)
        self.channel.receive(wire.encode(msg))
        return msg

    def handshake(self, *actions: RequestedAction) -> dict[str, Any]:
        self.feed(0, PayloadType.HANDSHAKE_REQUEST, HandshakeRequest("3.3.0", actions).payload())
        ack, response = self.sent[-2:]
        assert ack.message_type == MessageType.ACK
        assert response.payload_type == PayloadType.HANDSHAKE_RESPONSE
        body: dict[str, Any] = json.loads(response.payload)
        return body


SHELL = RequestedAction("SessionType", {"SessionType": "Standard_Stream", "Properties": None})
KMS = RequestedAction("KMSEncryption", {"KMSKeyId": "alias/k", "Challenge": "AAAA"})


def test_handshake_acked_first_and_response_as_observed() -> None:
    """§3.5 observed response JSON; §3.3 the ack precedes the response."""
    h = Harness()
    h.handshake(SHELL, KMS)
    ack, response = h.sent
    assert wire.parse_ack(ack).sequence_number == 0
    assert response.sequence_number == 0
    assert response.payload == (
        b'{"ClientVersion":"1.2.677.0","ProcessedClientActions":['
        b'{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""},'
        b'{"ActionType":"KMSEncryption","ActionStatus":1,"ActionResult":'
        b'{"KMSCipherTextKey":"YmxvYg==","KMSCipherTextHash":null},"Error":""}],"Errors":null}'
    )
    # §2.3: the encryption context carries SessionId and the argv Target.
    assert h.kms_calls == [
        ("alias/k", {"aws:ssm:SessionId": "sess-1", "aws:ssm:TargetId": "i-0123"})
    ]


def test_legacy_cli_fails_kms_with_release_text() -> None:
    """§2.1/§2.2: ActionStatus 2, Error prefixed, raw text in Errors; KMS never called."""
    h = Harness(legacy=True)
    body = h.handshake(SHELL, KMS)
    assert body["ProcessedClientActions"][1] == {
        "ActionType": "KMSEncryption",
        "ActionStatus": 2,
        "ActionResult": None,
        "Error": "Failed to process action KMSEncryption: LEGACY",
    }
    assert body["Errors"] == ["LEGACY"]
    assert h.kms_calls == []


def test_unknown_session_type_and_unsupported_action_quirk() -> None:
    """§2.2: Unknown session type; streaming.go:478-482: ActionResult 3, ActionStatus 0."""
    h = Harness()
    body = h.handshake(
        RequestedAction("SessionType", {"SessionType": "Bogus"}), RequestedAction("Nope", {})
    )
    assert body["ProcessedClientActions"] == [
        {
            "ActionType": "SessionType",
            "ActionStatus": 2,
            "ActionResult": None,
            "Error": "Failed to process action SessionType: Unknown session type Bogus",
        },
        {
            "ActionType": "Nope",
            "ActionStatus": 0,
            "ActionResult": 3,
            "Error": "Unsupported action Nope",
        },
    ]
    assert body["Errors"] == ["Unknown session type Bogus", "Unsupported action Nope"]


def test_output_before_handler_is_dropped_unacked_then_delivered() -> None:
    """§3.3: after the session type is known, data waits for the session handler."""
    h = Harness()
    h.handshake(SHELL)
    h.feed(1, PayloadType.HANDSHAKE_COMPLETE, b'{"HandshakeTimeToComplete":1,"CustomerMessage":""}')
    assert h.types == [True] and h.shown == []
    before = len(h.sent)
    h.feed(2, PayloadType.OUTPUT, b"hello\n")
    assert len(h.sent) == before and h.channel.expected == 2
    h.channel.register_handler(lambda m: (h.shown.append(m.payload), True)[1])
    msg = h.feed(2, PayloadType.OUTPUT, b"hello\n")
    assert h.shown == [b"hello\n"]
    assert wire.parse_ack(h.sent[-1]).message_id == str(msg.message_id)


def test_no_handshake_first_output_makes_a_shell() -> None:
    """§3.4: the first Output sets the shell type and is printed and acked."""
    h = Harness()
    h.feed(0, PayloadType.OUTPUT, b"$ ")
    assert h.types == [True] and h.shown == [b"$ "] and h.channel.session_type == "Standard_Stream"
    assert h.sent[-1].message_type == MessageType.ACK


def test_out_of_order_buffered_and_acked_duplicates_dropped() -> None:
    h = Harness()
    h.feed(0, PayloadType.OUTPUT, b"a")
    h.channel.register_handler(lambda m: (h.shown.append(m.payload), True)[1])
    h.feed(2, PayloadType.OUTPUT, b"c")
    assert h.sent[-1].message_type == MessageType.ACK and h.shown == [b"a"]
    h.feed(1, PayloadType.OUTPUT, b"b")
    assert h.shown == [b"a", b"b", b"c"]
    count = len(h.sent)
    h.feed(1, PayloadType.OUTPUT, b"b")
    assert len(h.sent) == count


def test_encryption_and_newline_rewrite() -> None:
    """§3.3: "\\n" -> "\\r"; only Output is encrypted; the agent half decrypts it."""
    h = Harness()
    h.handshake(SHELL, KMS)
    agent = SessionCipher(bytes(range(64)), role="agent")
    h.channel.send_input(PayloadType.OUTPUT, b"\n")
    assert agent.decrypt(h.sent[-1].payload) == b"\r"
    h.channel.send_input(PayloadType.SIZE, b'{"cols":300,"rows":100}')
    assert h.sent[-1].payload == b'{"cols":300,"rows":100}'
    # Challenge: decrypt with the agent->client half, re-encrypt with the other (§3.6).
    challenge = agent.encrypt(b"x" * 64)
    h.feed(
        1,
        PayloadType.ENC_CHALLENGE_REQUEST,
        wire.go_json({"Challenge": base64.b64encode(challenge).decode()}),
    )
    reply = json.loads(h.sent[-1].payload)["Challenge"]
    assert agent.decrypt(base64.b64decode(reply)) == b"x" * 64


def test_resend_oldest_after_rto_and_ack_clears() -> None:
    """§3.3: RTO 200 ms; only the oldest unacked message is resent."""
    h = Harness()
    h.channel.send_input(PayloadType.SIZE, b"{}")
    h.channel.send_input(PayloadType.OUTPUT, b"x")
    h.clock = 0.1
    assert not h.channel.resend_due() and len(h.sent) == 2
    h.clock = 0.25
    h.channel.resend_due()
    assert len(h.sent) == 3 and h.sent[-1].sequence_number == 0
    ack = ClientMessage(MessageType.ACK, 0, 0, wire.ack_for(h.sent[0]).payload)
    h.channel.receive(wire.encode(ack))
    assert h.channel.pending == 1


def test_channel_closed_output() -> None:
    h = Harness()
    h.channel.receive(wire.encode(wire.channel_closed("sess-1", "bye")))
    assert h.closed == ["bye"]


def test_kms_failure_text_travels() -> None:
    h = Harness(kms_error="Error calling KMS GenerateDataKey API: boom")
    body = h.handshake(SHELL, KMS)
    assert body["Errors"] == ["Error calling KMS GenerateDataKey API: boom"]
