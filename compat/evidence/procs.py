"""Which processes are still alive: a process group's live members, one pid.

A zombie counts as gone: it can write nothing more, and on a machine whose PID 1 does not reap
orphans (containers often run a plain program as PID 1) a finished plugin stays a zombie, so
``os.killpg(pgid, 0)`` would keep answering that the group exists.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["alive", "group_members"]

_PROC = Path("/proc")
_DEAD_STATES = frozenset("ZXx")


def _stat(pid: int) -> tuple[str, int] | None:
    """``(state, pgrp)`` of ``pid`` from ``/proc/<pid>/stat``; None when it is gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[2])


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    if _PROC.is_dir():
        stat = _stat(pid)
        return stat is not None and stat[0] not in _DEAD_STATES
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def group_members(pgid: int) -> list[int]:
    """The live (non-zombie) processes of process group ``pgid``."""
    try:
        os.killpg(pgid, 0)  # cheap: an empty group needs no scan of /proc
    except ProcessLookupError:
        return []
    except PermissionError:
        pass
    if not _PROC.is_dir():
        return [pgid]
    members: list[int] = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(ValueError, IndexError):
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pgid and stat[0] not in _DEAD_STATES:
                members.append(int(entry.name))
    return members
