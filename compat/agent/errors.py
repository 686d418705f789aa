"""The fake agent's exceptions, in one place."""

from __future__ import annotations

from compat.errors import KitError

__all__ = ["AgentError", "TranscriptVersionError"]


class AgentError(KitError):
    """The fake agent failed (not the client): raised by ``FakeAgent.check_errors`` and for
    a lifecycle misuse (started twice, used before start)."""


class TranscriptVersionError(KitError):
    """A transcript of another schema version than this kit reads."""
