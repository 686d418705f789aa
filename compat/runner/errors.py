"""The runner's exceptions, ``runner/container`` included, in one place.

All are the kit's (:class:`~compat.errors.KitError`): by the time a cell runs, its adapter has
been accepted (what is wrong in one is ``compat.adapter.errors.AdapterError``), so what fails
now is the sandbox, the container engine, the relay or the run itself. ``run_cell`` turns any
of them into ``error harness-error``, except :class:`CellRefused`, which carries its own code.
"""

from __future__ import annotations

from compat.errors import KitError

__all__ = [
    "Cancelled",
    "CellRefused",
    "ContainerError",
    "RelayBuildError",
    "RelayProtocolError",
    "SandboxError",
    "UnsafeFilePathError",
]


class CellRefused(KitError):
    """The cell ends before its tool runs, with a reason code (``compat.verdict.reasons``).

    The kit decided not to start the tool: the program is missing (``skipped``), the
    scenario cannot be arranged (``unsupported-scenario``), or the kit failed
    (``harness-error``); ``run_cell`` gives the cell ``code``, never a verdict on the tool.
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


class SandboxError(KitError):
    """A file of the adapter could not be written inside the cell (``error harness-error``):
    the names were checked when the adapter loaded, so the cell's tree is what is wrong."""


class UnsafeFilePathError(KitError):
    """The name is not a plain relative path, or a component of it is a symlink.

    The kit's: an adapter's names passed the same check at load (``file_path_problem``, which
    reports a bad one as the user's ``AdapterError``), so meeting one here means the tree
    under the cell changed (a symlink planted by an earlier step).
    """


class Cancelled(KitError):
    """The run is being stopped (SIGINT, SIGTERM, SIGHUP): no new process starts."""


class ContainerError(KitError):
    """The engine refused or failed something the runner asked (not the tool's own failure)."""


class RelayBuildError(KitError):
    """The static relay could not be built (no compiler, no static libc): this machine's, so
    the container cells are skipped with this reason (``engine_available``)."""


class RelayProtocolError(KitError):
    """The container relay sent the host something the relay protocol does not allow."""
