"""The agent's session driven by hand, no sockets: one spec, one clock, frames in and out."""

from __future__ import annotations

from typing import Any

from compat.agent.channel import Close, Outgoing
from compat.agent.protocol import AgentConfig, AgentSession
from compat.agent.sessions import SessionSpec
from fake_plugin import wire
from fake_plugin.handshake import HandshakeResponse, ProcessedAction, kms_action_result
from fake_plugin.wire import ClientMessage, MessageType, PayloadType

T0 = 1000.0
#: An ECS exec of an interactive shell with a KMS key.
SPEC = SessionSpec(
    session_id="sess-1",
    token_value="tok",
    kind="ecs",
    target="ecs:c_t_r",
    region="us-east-1",
    account_id="123456789012",
    session_type="InteractiveCommands",
    kms_key_id="alias/k",
    command="/bin/sh",
)


def open_session(spec: SessionSpec = SPEC, **config: Any) -> AgentSession:
    """A session that has had its OpenDataChannel at T0 (``config``: AgentConfig's fields)."""
    session = AgentSession(spec.session_id, spec, AgentConfig(**config), T0)
    session.receive_text(wire.open_data_channel(spec.token_value, "c", "r", "1.2.677.0"), T0)
    return session


def take_frames(session: AgentSession) -> list[ClientMessage | Close]:
    """What the session queued since the last call, decoded."""
    return [item if isinstance(item, Close) else _decode(item) for item in session.take_outgoing()]


def input_frame(seq: int, payload_type: int, payload: bytes) -> bytes:
    return wire.encode(ClientMessage(MessageType.INPUT, seq, payload_type, payload))


def handshake_response(*actions: ProcessedAction) -> bytes:
    """The client's HandshakeResponse as message 0; by default both actions succeeded, the
    KMSEncryption result carrying the ciphertext ``b"blob"``."""
    done = actions or (
        ProcessedAction("SessionType", 1),
        ProcessedAction("KMSEncryption", 1, kms_action_result(b"blob")),
    )
    payload = HandshakeResponse("1.2.677.0", done).payload()
    return input_frame(0, PayloadType.HANDSHAKE_RESPONSE, payload)


def _decode(item: Outgoing) -> ClientMessage:
    assert isinstance(item, bytes), item
    return wire.decode(item)
