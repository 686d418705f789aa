"""What one session's tool gets besides its command: input, port probe, time limit.

A matrix cell (``compat/runner/launch.py``) and the pytest harness
(``compat/integrations/session_check.py``) run the tool the same way, so these rules live once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from compat.evidence import free_port, shell_input
from compat.runner.process import PortProbe

if TYPE_CHECKING:
    from compat.plan.scenario import Scenario

__all__ = ["ToolInput", "local_port", "time_limit", "tool_input"]


@dataclass(frozen=True)
class ToolInput:
    """What the user does with the tool: types into a shell, or sends through the port."""

    stdin_script: bytes
    probe: PortProbe | None


def local_port(scenario: Scenario) -> int | None:
    """The local port a port-forwarding session listens on (``None`` for a shell)."""
    return free_port() if scenario.user.session == "port-forward" else None


def tool_input(marker: str, port: int | None) -> ToolInput:
    """A shell gets the marker line and ``exit``; a forwarded ``port`` gets the marker sent
    through it and echoed back (the probe), with nothing on stdin."""
    if port is None:
        return ToolInput(shell_input(marker), None)
    return ToolInput(b"", PortProbe(port, marker.encode() + b"\n"))


def time_limit(limit: float, scenario: Scenario) -> float:
    """Seconds the tool may run: ``limit``, or the scenario's own if it is shorter."""
    if scenario.timeout_s is not None:
        return min(limit, scenario.timeout_s)
    return limit
