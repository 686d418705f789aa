"""The idle timeout counts the client's silence only, never the agent's own KMS call."""

from __future__ import annotations

import os

from compat.agent.kms import KmsResult
from compat.agent.protocol import AgentConfig, AgentSession, Close
from compat.agent.sessions import SessionSpec
from fake_plugin import wire
from fake_plugin.handshake import HandshakeResponse, ProcessedAction, kms_action_result
from fake_plugin.wire import ClientMessage, MessageType, PayloadType

T0 = 1000.0
IDLE = 1.5
SPEC = SessionSpec(
    session_id="sess-idle",
    token_value="tok",
    kind="ecs",
    target="ecs:c_t_r",
    region="us-east-1",
    account_id="123456789012",
    session_type="InteractiveCommands",
    kms_key_id="alias/k",
    command="/bin/sh",
)


def _handshake_response() -> bytes:
    response = HandshakeResponse(
        "1.2.677.0",
        (
            ProcessedAction("SessionType", 1),
            ProcessedAction("KMSEncryption", 1, kms_action_result(b"blob")),
        ),
    )
    message = ClientMessage(
        MessageType.INPUT, 0, PayloadType.HANDSHAKE_RESPONSE, response.payload()
    )
    return wire.encode(message)


def test_a_slow_kms_decrypt_is_not_client_idle_time() -> None:
    session = AgentSession(SPEC.session_id, SPEC, AgentConfig(idle_timeout_s=IDLE), T0)
    session.receive_text(wire.open_data_channel(SPEC.token_value, "c", "r", "1.2.677.0"), T0)
    session.take_outgoing()
    session.receive_binary(_handshake_response(), T0 + 0.1)
    assert session.pending_kms
    # The agent's own Decrypt took longer than the idle timeout (a loaded machine).
    done = T0 + 0.1 + 2 * IDLE
    session.kms_done([KmsResult(os.urandom(64))], done)
    session.tick(done)
    assert session.transcript.outcome is None
    assert not any(isinstance(item, Close) for item in session.take_outgoing())
    # The client then stays silent for the whole idle timeout: that is idle.
    session.tick(done + IDLE)
    assert session.transcript.outcome == "idle-timeout"
