"""The integrations' exceptions, in one place.

``compat.integrations.session_check`` re-exports :class:`SessionAssertionError`: it is the
name a suite using the pytest plugin catches.
"""

from __future__ import annotations

from compat.errors import UserError

__all__ = ["SessionAssertionError"]


class SessionAssertionError(UserError, AssertionError):
    """An ``assert_*`` of :class:`~compat.integrations.session_check.PluginSession` failed;
    the message carries the verdict.

    The user's: the verdict is on the user's own tool, with its remedy. An
    ``AssertionError`` too, so that pytest reports it as a failed assertion and a suite that
    catches ``AssertionError`` still does.
    """
