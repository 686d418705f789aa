"""What every part of one agent session reads and moves on: its spec, phase, transcript, frames.

The parts of :class:`compat.agent.protocol.AgentSession` (the input sequence, the handshake,
the stream) each keep their own state; this is the little they share, with the two ways any
part may end the session: closing the channel, or refusing the connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compat.agent.channel import REFUSED_CLOSE_CODE, AgentConfig, Phase
from compat.agent.outgoing import OutgoingStream
from compat.agent.sessions import SessionSpec
from compat.agent.transcript import SessionOutcome, Transcript

__all__ = ["SessionState"]


@dataclass
class SessionState:
    """One websocket connection's shared facts (the clock is always passed in, never read)."""

    session_id: str
    spec: SessionSpec | None
    config: AgentConfig
    transcript: Transcript
    out: OutgoingStream
    phase: Phase = Phase.AWAIT_OPEN
    #: The websocket was dropped on purpose; a resumed connection may take over.
    awaiting_resume: bool = False

    @property
    def closed(self) -> bool:
        return self.phase is Phase.CLOSED

    def session_type(self) -> str | None:
        return None if self.spec is None else self.spec.session_type

    def agent_version(self) -> str:
        if self.session_type() == "Port":
            return self.config.port_agent_version
        return self.config.agent_version

    def close_channel(
        self, now: float, outcome: SessionOutcome, output: str, **details: Any
    ) -> None:
        """What MGS does when the agent reports the task done: ``channel_closed`` with Output."""
        self.out.channel_closed(self.session_id, output, now)
        self.transcript.decide(now, "channel-closed", outcome=outcome, output=output, **details)
        self.transcript.finish(now, outcome, output)
        self.phase = Phase.CLOSED

    def refuse(self, now: float, outcome: SessionOutcome, reason: str) -> None:
        """Close the websocket before any session began (the OpenDataChannel was not good)."""
        self.transcript.decide(now, "refused", outcome=outcome, close_code=REFUSED_CLOSE_CODE)
        self.transcript.finish(now, outcome, None)
        self.out.close(REFUSED_CLOSE_CODE, reason)
        self.phase = Phase.CLOSED
