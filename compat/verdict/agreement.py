"""Replay agreement: does a replay hand the plugin what its real release hands it?

A replay is our claim, from the release's source, about the argv one release builds; its run
twin (a ``run`` variant of the same tool whose ``version`` is the replay's version or id) is
the measurement. Each cell records the *shape* of the argv the plugin got (what a verdict
depends on, never the ids or tokens of one run), and two cells of the same scenario and release
agree when their shapes and verdicts are equal. The matrix marks a replay whose every compared
cell agrees as "checked against the real program".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

__all__ = ["SHAPE_KEYS", "argv_shape", "checked_against", "compare", "twin_of"]

#: The parts of argv a verdict depends on (docs/plugin.md: argc, the operation, the profile the
#: KMS client uses, the Target the data key is bound to, the endpoint argv[6] names).
SHAPE_KEYS = ("argc", "operation", "profile", "target", "endpoint")
#: Outcomes that judged a tool: a skipped or errored cell proves nothing either way.
_JUDGED = frozenset({"pass", "fail"})


def argv_shape(
    argv: Sequence[str],
    *,
    names: Mapping[str, str],
    region: str,
    user_profile: str | None,
    configured_endpoints: Sequence[str] = (),
) -> dict[str, Any]:
    """What of ``argv`` a verdict depends on, with the cell's own ids written as ``{name}``."""
    argc = len(argv)
    return {
        "argc": argc,
        "operation": argv[3] if argc > 3 else None,
        "profile": _profile(argv[4], user_profile) if argc > 4 else None,
        "target": _target(argv[5], names) if argc > 5 else None,
        "endpoint": _endpoint(argv[6], region, configured_endpoints) if argc > 6 else None,
    }


def _profile(value: str, user_profile: str | None) -> str:
    if value == "":
        return "empty"
    if user_profile is not None and value == user_profile:
        return "the user's"
    return "default" if value == "default" else "other"


def _target(value: str, names: Mapping[str, str]) -> str:
    try:
        target = json.loads(value).get("Target")
    except (ValueError, AttributeError):
        return "unparsable"
    if not isinstance(target, str):
        return "none"
    # Longest first: a task ARN holds the task id, a cluster ARN the cluster name.
    for name, real in sorted(names.items(), key=lambda item: -len(item[1])):
        if real:
            target = target.replace(real, f"{{{name}}}")
    return target


def _endpoint(value: str, region: str, configured: Sequence[str]) -> str:
    if value == "":
        return "empty"
    if value == region:
        return "region"
    if value.rstrip("/") in {c.rstrip("/") for c in configured}:
        return "configured endpoint"
    host = urlsplit(value).hostname or ""
    for prefix, kind in (("ssm.", "ssm"), ("ecs-a-", "ecs agent poll"), ("ecs.", "ecs")):
        if host.startswith(prefix):
            return kind
    return "other"


def compare(replay: Mapping[str, Any], run: Mapping[str, Any]) -> list[str] | None:
    """How two cells (matrix.json entries) differ; ``None`` when one of them judged nothing."""
    if replay.get("outcome") not in _JUDGED or run.get("outcome") not in _JUDGED:
        return None
    found = []
    ours, theirs = replay.get("argv_shape") or {}, run.get("argv_shape") or {}
    for key in SHAPE_KEYS:
        if ours.get(key) != theirs.get(key):
            found.append(f"{key} {ours.get(key)!r} vs {theirs.get(key)!r}")
    verdicts = [(c.get("outcome"), c.get("reason")) for c in (replay, run)]
    if verdicts[0] != verdicts[1]:
        found.append("verdict {} vs {}".format(*("/".join(filter(None, v)) for v in verdicts)))
    return found


def twin_of(replay: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> str | None:
    """The run row of the same tool and release as a replay row, if the matrix has one."""
    labels = {replay.get("version"), replay.get("variant")}
    for row in rows:
        same_tool = row.get("tool") == replay.get("tool")
        if same_tool and row.get("mode") == "run" and row.get("version") in labels:
            return str(row["id"])
    return None


def checked_against(
    rows: Sequence[Mapping[str, Any]], cells: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Replay row id -> ``{"row", "cells", "agree", "disagreements"}`` for every replay whose
    run twin judged at least one cell of a column the replay judged too."""
    by_key = {(c["row"], c["column"]): c for c in cells}
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.get("mode") != "replay":
            continue
        twin = twin_of(row, rows)
        if twin is None:
            continue
        compared = 0
        disagreements: list[str] = []
        for (row_id, column), cell in by_key.items():
            other = by_key.get((twin, column))
            if row_id != row["id"] or other is None:
                continue
            diff = compare(cell, other)
            if diff is None:
                continue
            compared += 1
            disagreements.extend(f"{column}: {d}" for d in diff)
        if compared:
            found[str(row["id"])] = {
                "row": twin,
                "cells": compared,
                "agree": not disagreements,
                "disagreements": disagreements,
            }
    return found
