"""Processes found by their command line, in any PID namespace below ours.

A tool runs in a PID namespace of its own (compat/isolation/jail.c): a pid it writes down is
its pid *there*, so tests look for what it started by a marker in the command line.
"""

from __future__ import annotations

from pathlib import Path

from compat.evidence.procs import alive


def running_with(text: str) -> list[int]:
    """The live (non-zombie) processes whose command line holds ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if text in cmdline.decode(errors="replace") and alive(int(entry.name)):
            found.append(int(entry.name))
    return found
