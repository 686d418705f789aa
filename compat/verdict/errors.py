"""The verdict package's exceptions, in one place."""

from __future__ import annotations

from compat.errors import KitError

__all__ = ["UnknownReasonError"]


class UnknownReasonError(KitError, KeyError):
    """A reason code that is not in ``compat.verdict.reasons.REASONS``: a bug in the caller,
    not user input, so the kit's. A ``KeyError`` too: ``reasons.get`` is a lookup in the
    vocabulary, and a caller may treat a missing code as it treats a missing key."""
