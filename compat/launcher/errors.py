"""The launcher package's exceptions, in one place.

Both are the kit's (:class:`~compat.errors.KitError`). Neither ends a run: without a launcher
the sandbox gets the Python shim, and a bad request ends only that one plugin start.
"""

from __future__ import annotations

from compat.errors import KitError

__all__ = ["LaunchRequestError", "LauncherBuildError"]


class LauncherBuildError(KitError):
    """The launcher could not be built (no compiler, or the compile failed), or its server did
    not start: this machine's, so the sandbox gets the Python shim instead."""


class LaunchRequestError(KitError):
    """The launcher sent the warm plugin server something the protocol does not allow."""
