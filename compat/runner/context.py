"""What every cell of one run shares: the fake AWS, the directories, the tools, the gate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from compat.fakeaws import FakeAWS
from compat.launcher import Launcher
from compat.runner.gate import KmsGate
from compat.runner.toolenv import Missing, Resolved

__all__ = ["RunContext"]


@dataclass
class RunContext:
    """What every cell of one run shares."""

    fake: FakeAWS
    #: Scratch space for sandboxes (deleted after the run).
    work_dir: Path
    #: The report directory; evidence goes under ``evidence/``.
    out_dir: Path
    timeout: float = 60.0
    real_plugin: Path | None = None
    #: ``(tool, variant id)`` -> where its program is, or why it is missing (run variants).
    tools: Mapping[tuple[str, str], Resolved | Missing] = field(default_factory=dict)
    gate: KmsGate = field(default_factory=KmsGate)
    #: Keep the evidence of clean passes too (else only of failures, errors and warnings).
    keep_passing: bool = False
    #: The run's native plugin launcher (compat/launcher); None: the Python shim.
    launcher: Launcher | None = None
