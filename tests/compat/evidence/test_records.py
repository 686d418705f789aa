"""The record file read back: a start line and its end line are one entry, in start order."""

from __future__ import annotations

import json
from pathlib import Path

from compat.evidence import read_records, unfinished
from compat.evidence.records import merge


def line(pid: int, started: str, event: str | None, **fields: object) -> dict[str, object]:
    found: dict[str, object] = {"pid": pid, "started_at": started, **fields}
    if event is not None:
        found["event"] = event
    return found


def test_an_end_line_replaces_its_start_in_start_order() -> None:
    lines = [
        line(1, "t1", None, argv=["p", "--version"]),  # a probe: end line only (older kits)
        line(2, "t2", "start", argv=["p", "a"]),
        line(3, "t3", "start", argv=["p", "b"]),
        line(3, "t3", "end", exit_code=0),
        line(2, "t2", "end", exit_code=None, signal="SIGTERM"),
    ]
    merged = merge(lines)
    assert [(r["pid"], r.get("event")) for r in merged] == [(1, None), (2, "end"), (3, "end")]
    assert merged[1]["signal"] == "SIGTERM"
    assert not any(unfinished(r) for r in merged)


def test_a_start_without_its_end_stays_unfinished() -> None:
    """A process killed by SIGKILL leaves its start line only: still a start, never lost."""
    merged = merge([line(7, "t7", "start", argv=["p", "a", "b", "c"]), line(7, "t8", "end")])
    assert [unfinished(r) for r in merged] == [True, False]  # another start of a reused pid


def test_read_records(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    assert read_records(path) == []
    path.write_text("".join(json.dumps(x) + "\n" for x in [line(1, "t", "start")]) + "\n")
    assert [unfinished(r) for r in read_records(path)] == [True]
