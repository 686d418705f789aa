"""The plan package's exceptions, in one place.

Both are the user's (:class:`~compat.errors.UserError`): a name or pattern given on the command
line or to the pytest plugin matched nothing, and the message lists what exists.
"""

from __future__ import annotations

from collections.abc import Iterable

from compat.errors import UserError

__all__ = ["UnknownScenarioError", "UnmatchedFilterError"]


class UnmatchedFilterError(UserError):
    """An ``--adapter`` or ``--release`` pattern matched nothing; lists what exists."""


class UnknownScenarioError(UserError):
    """A scenario name or pattern matched nothing; lists the known ones."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(f"unknown scenario {name!r}; known: {', '.join(self.known)}")
