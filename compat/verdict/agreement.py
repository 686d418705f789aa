"""Replay agreement: does a replay hand the plugin what its real release hands it?

A replay is our claim, from the release's source, about the argv the releases it names build
(one release, or a range such as ``1.4.0-1.33.2``); a run twin (a ``run`` variant of the same
tool whose ``version`` is the replay's id or version, or else a release inside its range) is
the measurement. The exact release is preferred; a real release inside the range stands in when
the exact one judged nothing here (it could not be built or installed).

Each cell records the *shape* of the argv the plugin got (what a verdict
depends on, never the ids or tokens of one run), and two cells of the same scenario and release
agree when their shapes and verdicts are equal. The matrix marks a replay whose every compared
cell agrees as "checked against the real program".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from fake_plugin.versions import version_key

__all__ = ["SHAPE_KEYS", "argv_shape", "checked_against", "compare", "twin_of", "twins_of"]

#: The parts of argv a verdict depends on (docs/plugin.md: argc, the operation, the profile the
#: KMS client uses, the Target the data key is bound to, the endpoint argv[6] names).
SHAPE_KEYS = ("argc", "operation", "profile", "target", "endpoint")
#: Outcomes that judged a tool: a skipped or errored cell proves nothing either way.
_JUDGED = frozenset({"pass", "fail"})
#: What :func:`version_key` gives a label that is not a dotted release (``installed``).
_NOT_A_RELEASE = version_key("installed")


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


def twins_of(replay: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The run rows of the same tool that measure a replay row, best first: the exact release
    (its version is the replay's version or id), then the releases inside the replay's
    ``low-high`` range, newest first."""
    labels = {replay.get("version"), replay.get("variant")}
    runs = [
        row for row in rows if row.get("tool") == replay.get("tool") and row.get("mode") == "run"
    ]
    exact = [str(row["id"]) for row in runs if row.get("version") in labels]
    span = _span(str(replay.get("version") or ""))
    inside = [
        row for row in runs
        if span is not None and row.get("version") not in labels
        and _within(str(row.get("version")), span)
    ]  # fmt: skip
    inside.sort(key=lambda row: version_key(str(row["version"])), reverse=True)
    return exact + [str(row["id"]) for row in inside]


def twin_of(replay: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> str | None:
    """The best run row measuring a replay row (:func:`twins_of`), if the matrix has one."""
    twins = twins_of(replay, rows)
    return twins[0] if twins else None


def checked_against(
    rows: Sequence[Mapping[str, Any]], cells: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Replay row id -> ``{"row", "cells", "agree", "disagreements"}`` for every replay whose
    run twin judged at least one cell of a column the replay judged too (the best such twin)."""
    by_key = {(c["row"], c["column"]): c for c in cells}
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.get("mode") != "replay":
            continue
        for twin in twins_of(row, rows):
            check = _check(str(row["id"]), twin, by_key)
            if check is not None:
                found[str(row["id"])] = check
                break
    return found


def _check(
    replay: str, twin: str, by_key: Mapping[tuple[str, str], Mapping[str, Any]]
) -> dict[str, Any] | None:
    """A replay row compared with one twin; ``None`` when no column judged both."""
    compared = 0
    disagreements: list[str] = []
    for (row_id, column), cell in by_key.items():
        other = by_key.get((twin, column))
        if row_id != replay or other is None:
            continue
        diff = compare(cell, other)
        if diff is None:
            continue
        compared += 1
        disagreements.extend(f"{column}: {d}" for d in diff)
    if not compared:
        return None
    return {
        "row": twin,
        "cells": compared,
        "agree": not disagreements,
        "disagreements": disagreements,
    }


def _span(version: str) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The bounds of a ``low-high`` release range; ``None`` for one release or a label."""
    low, dash, high = version.partition("-")
    bounds = version_key(low), version_key(high)
    return bounds if dash and _NOT_A_RELEASE not in bounds else None


def _within(version: str, span: tuple[tuple[int, ...], tuple[int, ...]]) -> bool:
    key = version_key(version)
    return key != _NOT_A_RELEASE and span[0] <= key <= span[1]
