"""Read a plugin record file: one entry per plugin start, its start and end lines merged.

A session start writes two lines (README "The record"): a start line (``"event": "start"``,
the fields known before the plugin dials) and, when the process ends, however it ends, the
whole record (``"event": "end"``). A start without its end means the process is still running
or was killed without a chance to record (SIGKILL); :func:`unfinished` tells which entries
those are. Probes write only the end line; records of older kits have no ``event`` at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from fake_plugin.record import PluginRecord

__all__ = ["merge", "read_records", "unfinished"]


def _key(line: dict[str, Any]) -> tuple[Any, Any]:
    return line.get("pid"), line.get("started_at")


def merge(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per start, in the order the starts were written; an end replaces its start."""
    merged: list[dict[str, Any]] = []
    open_starts: dict[tuple[Any, Any], int] = {}
    for line in lines:
        if line.get("event") == "start":
            open_starts[_key(line)] = len(merged)
            merged.append(line)
            continue
        index = open_starts.pop(_key(line), None)
        if index is None:
            merged.append(line)
        else:
            merged[index] = line
    return merged


def read_records(path: Path) -> list[PluginRecord]:
    """The plugin starts recorded in ``path`` so far, oldest first (``[]`` without the file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    lines = merge([json.loads(line) for line in text.splitlines() if line.strip()])
    return cast("list[PluginRecord]", lines)


def unfinished(record: PluginRecord) -> bool:
    """A start whose end line is not (yet) written."""
    return record.get("event") == "start"
