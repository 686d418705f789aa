"""The isolation package's exceptions, in one place."""

from __future__ import annotations

from compat.errors import KitError

__all__ = ["InstallStopped"]


class InstallStopped(KitError):
    """The run is being stopped (:func:`compat.isolation.jail.stop_installs`): the install
    step was ended, and what it left is no refusal to remember.

    The kit's, not the user's: no verdict can come of a stopped run. It is no
    ``compat.install.errors.InstallRefused``, so no refusal marker is written for it.
    """
