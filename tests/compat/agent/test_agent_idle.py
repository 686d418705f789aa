"""The idle timeout counts the client's silence only, never the agent's own KMS call."""

from __future__ import annotations

import os

from compat.agent.kms import KmsResult
from compat.agent.protocol import Close
from tests.compat.agent.sans_io import T0, handshake_response, open_session

IDLE = 1.5


def test_a_slow_kms_decrypt_is_not_client_idle_time() -> None:
    session = open_session(idle_timeout_s=IDLE)
    session.take_outgoing()
    session.receive_binary(handshake_response(), T0 + 0.1)
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
