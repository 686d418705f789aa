"""Why a tool's container ended, read from the engine before the container is removed.

A container ends by the tool's own exit, by the kit's kill at the timeout, or by someone else:
another process on the same engine (``docker kill``, ``podman rm -f``: one engine serves every
kit run and test session of the machine) or the kernel's OOM killer. The exit status cannot
tell these apart (a SIGKILL is 137 whoever sends it), and podman answers the wait of a
container removed under it with ``StatusCode 0`` plus an ``Error``, which would read as the
tool's success. So the wait's whole answer and the container's ``State`` are read here, and an
end the tool did not choose is said in words instead of a bare exit status.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Ending", "ending"]

#: The exit status of a container whose main process died of SIGKILL (128 + 9).
SIGKILL_STATUS = 137


@dataclass(frozen=True)
class Ending:
    """The container's exit status (None: unknown) and, if the tool did not end it, why."""

    returncode: int | None
    #: Empty when the tool ended the container itself or the kit killed it at the timeout.
    why: str = ""


def _wait_error(answer: Mapping[str, Any] | None) -> str:
    error = (answer or {}).get("Error")
    if isinstance(error, Mapping):
        return str(error.get("Message") or "")
    return str(error or "")


def _state(container: Any) -> Mapping[str, Any] | None:
    """The container's ``State`` as the engine has it now; None when it no longer exists."""
    with contextlib.suppress(Exception):  # NotFound, or the engine gone: no state to read
        container.reload()
        state = container.attrs.get("State")
        return state if isinstance(state, Mapping) else {}
    return None


def ending(container: Any, answer: Mapping[str, Any] | None, *, killed_by_us: bool) -> Ending:
    """How ``container`` ended, given the engine's wait ``answer`` (None: the wait found no
    container). ``killed_by_us``: the kit killed it (timeout), so a 137 is explained."""
    error = _wait_error(answer)
    raw = (answer or {}).get("StatusCode")
    code = int(raw) if isinstance(raw, int) and not error else None
    state = _state(container)
    if state is None or answer is None or error:
        said = f" (the engine said: {error})" if error else ""
        return Ending(
            code,
            "the container was removed while it ran, not by smp-compat (another process using "
            f"the same container engine?); the tool's exit status is lost{said}",
        )
    if state.get("OOMKilled"):
        return Ending(code, "the kernel's OOM killer killed the container (State.OOMKilled)")
    if state.get("Error"):
        return Ending(code, f"the container engine reports an error: {state['Error']}")
    if code == SIGKILL_STATUS and not killed_by_us:
        return Ending(
            code,
            "the container died of a SIGKILL (exit 137) that smp-compat did not send: "
            "someone using the same container engine (docker/podman kill, rm -f) or the kernel",
        )
    return Ending(code)
