"""The installers' exceptions, in one place.

A tool that cannot be had on this machine (no ``go``, a registry's 404, a compile error, no
network) is neither a finding about the tool nor the user's mistake to fix in the kit's input:
it is the environment's, so these are :class:`~compat.errors.KitError`. None of them reaches a
cell as ``error harness-error``: ``compat.runner.toolenv`` catches each installer's error and
the cell is ``skipped`` with the error's one line as its reason; a run with
``--no-install`` says the same.
"""

from __future__ import annotations

from compat.errors import KitError

__all__ = ["BundleError", "GoBuildError", "InstallRefused", "NpmError", "VenvError"]


class InstallRefused(KitError):
    """The installer itself said no (not a timeout, not an interrupt): remembered, so that the
    refusal is not asked again on every run (``compat.install.once``). Each installer turns it
    into its own error below."""


class GoBuildError(KitError):
    """Why the tool could not be built; one line, shown as the cell's ``skipped`` reason."""


class NpmError(KitError):
    """Why the tool could not be installed; one line, shown as the cell's ``skipped`` reason."""


class BundleError(KitError):
    """Why the program cannot be had; one line, shown with the ``skipped`` cell."""


class VenvError(KitError):
    """Why the PyPI tool could not be installed into its venv; one line, shown as the cell's
    ``skipped`` reason."""
