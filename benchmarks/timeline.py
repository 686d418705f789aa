"""Where a cell's "tool" phase goes: before the plugin, in the plugin, after it (issue 12).

The runner times a cell's tool phase as one number. :func:`recording` wraps the runner's
``run_process`` and ``collect`` (in ``compat.runner.cell``, for the benchmark only) to put
each cell's plugin records and agent transcripts on the tool's own clock:

- ``exec``: the tool's start to the first plugin start that is a session attempt (the tool's
  interpreter, its API calls to the fake AWS, a ``--version`` probe, the launcher);
- ``connect``: the plugin's start to the agent seeing its websocket (StartSession answer
  parsing, KMS client setup, the dial);
- ``session``: the agent's first connection to the plugin's last end (handshake, KMS,
  shell exchange, a reconnect's wait);
- ``after``: the last plugin end to the tool's exit (the tool's own work after the session,
  its interpreter's shutdown);
- ``ending``: the tool's exit (as the jail reports it) to the end of the tool phase (the
  kit ending what is left, reaping, joining the output pumps).

Cells without a plugin record count only in ``tool``.
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from compat.runner import cell as cell_module
from compat.runner import process
from compat.verdict.rules import session_starts

__all__ = ["Timeline", "print_breakdown", "recording"]


def _epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@dataclass
class Timeline:
    """One cell's tool phase on the wall clock (epoch seconds)."""

    began: float
    ended: float
    #: When the runner saw the tool itself exit (0.0: not seen, e.g. a port probe's cell).
    exited: float = 0.0
    plugin_starts: list[float] = field(default_factory=list)
    plugin_ends: list[float] = field(default_factory=list)
    agent_starts: list[float] = field(default_factory=list)

    def parts(self) -> dict[str, float]:
        """Seconds per part (see the module docstring); only ``tool`` without a plugin."""
        parts = {"tool": self.ended - self.began}
        if not self.plugin_starts:
            return parts
        first = min(self.plugin_starts)
        last = max(self.plugin_ends) if self.plugin_ends else self.ended
        parts["exec"] = first - self.began
        if self.agent_starts:
            parts["connect"] = min(self.agent_starts) - first
            parts["session"] = last - min(self.agent_starts)
        else:
            parts["connect"] = last - first
            parts["session"] = 0.0
        exited = self.exited or self.ended
        parts["after"] = exited - last
        parts["ending"] = self.ended - exited
        return parts


_local = threading.local()


@contextlib.contextmanager
def recording() -> Iterator[dict[str, Timeline]]:
    """Timelines by sandbox directory name (the cell's ``cell_dirname``) while inside."""
    found: dict[str, Timeline] = {}
    run_process, collect = cell_module.run_process, cell_module.collect
    wait_tool = process._Jailed.wait_tool

    def timed_wait(self: Any, deadline: float) -> bool:
        done = wait_tool(self, deadline)
        _local.exited = time.time() if done else 0.0
        return done

    def timed_run(*args: Any, **kwargs: Any) -> Any:
        _local.began, _local.exited = time.time(), 0.0
        try:
            return run_process(*args, **kwargs)
        finally:
            _local.ended = time.time()

    def timed_collect(fake: Any, record_file: Any, *args: Any, **kwargs: Any) -> Any:
        evidence = collect(fake, record_file, *args, **kwargs)
        line = Timeline(_local.began, _local.ended, _local.exited)
        for record in session_starts(evidence.records):  # a ``--version`` probe is the tool's
            if (start := _epoch(record.get("started_at"))) is not None:
                line.plugin_starts.append(start)
            if (end := _epoch(record.get("ended_at"))) is not None:
                line.plugin_ends.append(end)
        for transcript in evidence.transcripts.values():
            if (start := _epoch(transcript.get("started_at"))) is not None:
                line.agent_starts.append(start)
        found[record_file.parent.name] = line
        return evidence

    cell_module.run_process, cell_module.collect = timed_run, timed_collect  # type: ignore[assignment]
    process._Jailed.wait_tool = timed_wait  # type: ignore[method-assign]
    try:
        yield found
    finally:
        cell_module.run_process, cell_module.collect = run_process, collect  # type: ignore[assignment]
        process._Jailed.wait_tool = wait_tool  # type: ignore[method-assign]


PARTS = ("tool", "exec", "connect", "session", "after", "ending")


def print_breakdown(rows: Sequence[tuple[str, str, dict[str, float]]]) -> None:
    """Median seconds of each part per tool variant and per scenario; ``rows`` are
    ``(variant label, scenario, parts)``."""
    for title, index in (("variant", 0), ("scenario", 1)):
        groups: dict[str, list[dict[str, float]]] = {}
        for row in rows:
            groups.setdefault(row[index], []).append(row[2])
        print(f"{title:>34} {'n':>4} " + " ".join(f"{p:>8}" for p in PARTS) + "  (medians, s)")
        for name, parts in sorted(groups.items(), key=lambda g: -_median(g[1], "tool")):
            cols = " ".join(f"{_median(parts, p):>8.2f}" for p in PARTS)
            total = sum(p["tool"] for p in parts)
            print(f"{name:>34} {len(parts):>4} {cols}  sum tool {total:.1f}")


def _median(parts: list[dict[str, float]], name: str) -> float:
    values = [p[name] for p in parts if name in p]
    return statistics.median(values) if values else float("nan")
