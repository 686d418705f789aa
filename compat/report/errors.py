"""The report package's exceptions, in one place.

All are the user's (:class:`~compat.errors.UserError`): a report is built from files the user
hands the kit (``smp-compat report``, ``diff``, ``merge``), and the message says which file and
what is wrong with it.
"""

from __future__ import annotations

from compat.errors import UserError

__all__ = ["MatrixInvalidError", "MatrixVersionError", "MergeError"]


class MatrixInvalidError(UserError):
    """A matrix.json that does not follow the schema; ``path`` is the JSON path of the fault."""

    def __init__(self, message: str, path: str = "$", source: str = "matrix.json") -> None:
        self.path = path
        self.source = source
        super().__init__(f"{source}: {path}: {message}")


class MatrixVersionError(MatrixInvalidError):
    """A matrix.json of a schema version this kit does not read."""


class MergeError(UserError):
    """Parts of a sharded run that cannot be joined: different runs, duplicates, gaps (the
    parts the user passed to ``smp-compat merge``)."""
