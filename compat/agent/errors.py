"""The fake agent's exceptions, in one place.

All are the kit's (:class:`~compat.errors.KitError`): the agent and the session registry are
the fake AWS's parts, and nothing a user writes reaches them directly.
"""

from __future__ import annotations

from compat.errors import KitError

__all__ = ["AgentError", "TranscriptVersionError", "UnknownSessionError"]


class AgentError(KitError):
    """The fake agent failed (not the client): raised by ``FakeAgent.check_errors`` and for
    a lifecycle misuse (started twice, used before start)."""


class TranscriptVersionError(KitError):
    """A transcript of another schema version than this kit reads."""


class UnknownSessionError(KitError, KeyError):
    """No session with that id was started through the fake AWS.

    A ``KeyError`` too: :class:`~compat.agent.sessions.SessionRegistry` is a map of session
    ids, and a caller of a map may look a missing id up as one. The agent and the SSM patches
    catch it and answer as AWS does for an unknown session.
    """
