"""The data channel's vocabulary: agent versions, phases, the close frame, the agent's timeouts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from compat.agent.kms import KmsRequest, KmsResult
from fake_plugin.handshake import (
    HandshakeResponse,
)
from fake_plugin.wire import (
    PayloadType,
)

__all__ = [
    "AGENT_VERSION",
    "ALWAYS_HANDSHAKE",
    "ENCRYPTED_OUT",
    "ENC_CHALLENGE_BYTES",
    "KMS_RANDOM_CHALLENGE_BYTES",
    "PORT_AGENT_VERSION",
    "REFUSED_CLOSE_CODE",
    "AgentConfig",
    "Close",
    "HandshakeState",
    "Outgoing",
    "Phase",
]

#: AgentVersion for shell sessions: the newest release in AGENT@1c217c89:RELEASENOTES.md.
AGENT_VERSION = "3.3.987.0"
#: AgentVersion for Port sessions. The plugin uses smux only for agents *after* 3.0.196.0
#: (SMP@61cf1288:src/config/config.go:48, portsession.go:67-80), so reporting exactly
#: 3.0.196.0 selects basic forwarding, which our echo "remote service" speaks. It is still
#: after 2.3.722.0, so the plugin sends the TerminateSession flag on exit (config.go:47).
PORT_AGENT_VERSION = "3.0.196.0"
#: Session types whose agent plugin requires a handshake even without KMS
#: (port.go:137-139, noninteractivecommands.go:42-44; InteractiveCommands delegates to
#: singlecommand.go:47-49, which says no, like standardstream.go:42-44).
ALWAYS_HANDSHAKE = frozenset({"Port", "NonInteractiveCommands"})
#: randomChallengeSize (AGENT@1c217c89:agent/session/crypto/blockcipher.go:30) and the
#: challenge of 64 random bytes (datachannel.go:1093-1096).
KMS_RANDOM_CHALLENGE_BYTES = 16
ENC_CHALLENGE_BYTES = 64
#: Payload types the agent encrypts once KMS is on (datachannel.go:412-416).
ENCRYPTED_OUT = frozenset({PayloadType.OUTPUT, PayloadType.STDERR, PayloadType.EXIT_CODE})
#: Close code for a refused OpenDataChannel. MGS is closed source; 1008 (policy violation)
#: is our choice, documented as such.
REFUSED_CLOSE_CODE = 1008


class Phase(StrEnum):
    """Where the session is."""

    AWAIT_OPEN = "await-open"
    HANDSHAKE = "handshake"
    KMS = "kms"
    CHALLENGE = "challenge"
    READY = "ready"
    RUNNING = "running"
    DRAINING = "draining"
    CLOSED = "closed"


@dataclass(frozen=True)
class Close:
    """Close the websocket (after the frames queued before it)."""

    code: int = 1000
    reason: str = ""


Outgoing = bytes | str | Close


@dataclass(frozen=True)
class AgentConfig:
    """Timeouts and pacing; the defaults are the real agent's where it has one."""

    #: datachannel.go:51 (15 s), for the HandshakeResponse and again for the challenge.
    handshake_timeout_s: float = 15.0
    #: No client frame for this long closes the session (a harness guard, not emulation).
    idle_timeout_s: float = 30.0
    #: Resend unacked output this often (the plugin drops output it is not ready for).
    resend_interval_s: float = 0.25
    #: The session plugin opens its pty this long after HandshakeComplete went out; until
    #: then stream data is refused unacked (``ErrHandlerNotReady``, shell_unix.go:425-433) and
    #: the client resends it. The real delay is the pty's start; 50 ms is long enough that
    #: on loopback the Size sent on HandshakeComplete usually meets a plugin that is not
    #: ready, so encrypted sessions exercise the client's resend, not only the tests.
    shell_start_s: float = 0.05
    #: PrepareToCloseChannel waits up to 2 s for the outgoing buffer (datachannel.go:387-402).
    drain_timeout_s: float = 2.0
    agent_version: str = AGENT_VERSION
    port_agent_version: str = PORT_AGENT_VERSION


@dataclass
class HandshakeState:
    requested: bool = False
    encryption: bool = False
    sent_at: float = 0.0
    deadline: float = 0.0
    response: HandshakeResponse | None = None
    kms_requests: list[tuple[int, KmsRequest]] = field(default_factory=list)
    kms_results: dict[int, KmsResult] = field(default_factory=dict)
    challenge: bytes = b""
    challenge_error: str | None = None
    complete_seq: int | None = None
    #: When the session plugin's handler becomes ready (set on HandshakeComplete).
    plugin_ready_at: float | None = None
