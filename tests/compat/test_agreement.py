"""Replay agreement: argv shapes, the comparison of two cells, and how the reports show it."""

from __future__ import annotations

import json
from typing import Any

from compat.adapter.load import load_adapters
from compat.plan.cells import Filters, plan
from compat.report import html, markdown, matrix
from compat.report.schema import validate
from compat.runner.result import CellResult
from compat.verdict.agreement import argv_shape, checked_against, compare, twins_of

IDS = {
    "cluster": "smp-c1",
    "task_id": "0f1e2d",
    "task_arn": "arn:aws:ecs:eu-west-1:123456789012:task/smp-c1/0f1e2d",
    "runtime_id": "0f1e2d-2531612879",
}
TARGET = json.dumps({"Target": "ecs:smp-c1_0f1e2d_0f1e2d-2531612879"})


def shape(*argv: str, profile: str | None = None) -> dict[str, Any]:
    return argv_shape(
        ["session-manager-plugin", "{}", "eu-west-1", *argv],
        names=IDS,
        region="eu-west-1",
        user_profile=profile,
        configured_endpoints=("http://127.0.0.1:4566",),
    )


def test_a_shape_keeps_what_a_verdict_reads_and_names_the_cells_ids() -> None:
    assert shape("StartSession") == {
        "argc": 4,
        "operation": "StartSession",
        "profile": None,
        "target": None,
        "endpoint": None,
    }
    assert shape("StartSession", "", TARGET, "https://ecs.eu-west-1.amazonaws.com") == {
        "argc": 7,
        "operation": "StartSession",
        "profile": "empty",
        # The runtime id holds the task id: the longer name wins.
        "target": "ecs:{cluster}_{task_id}_{runtime_id}",
        "endpoint": "ecs",
    }
    empty_runtime = json.dumps({"Target": "ecs:smp-c1_0f1e2d_", "DocumentName": None})
    assert shape("StartSession", "dev", empty_runtime, "eu-west-1", profile="dev") == {
        "argc": 7,
        "operation": "StartSession",
        "profile": "the user's",
        "target": "ecs:{cluster}_{task_id}_",
        "endpoint": "region",
    }
    endpoints = {
        "https://ssm.eu-west-1.amazonaws.com": "ssm",
        "https://ecs-a-1.eu-west-1.amazonaws.com/": "ecs agent poll",
        "http://127.0.0.1:4566/": "configured endpoint",
        "": "empty",
        "https://example.com": "other",
    }
    for value, kind in endpoints.items():
        assert shape("StartSession", "default", "not json", value)["endpoint"] == kind
    assert shape("StartSession", "default", "not json", "")["profile"] == "default"
    assert shape("StartSession", "default", "not json", "")["target"] == "unparsable"


def _cell(outcome: str, reason: str | None, argv_shape: dict[str, Any] | None) -> dict[str, Any]:
    return {"outcome": outcome, "reason": reason, "argv_shape": argv_shape}


def test_two_cells_agree_on_shape_and_verdict_or_say_how_they_differ() -> None:
    four, seven = shape("StartSession"), shape("StartSession", "", TARGET, "")
    assert compare(_cell("fail", "legacy-argv", four), _cell("fail", "legacy-argv", four)) == []
    assert compare(_cell("fail", "legacy-argv", four), _cell("pass", None, seven)) == [
        "argc 4 vs 7",
        "profile None vs 'empty'",
        "target None vs 'ecs:{cluster}_{task_id}_{runtime_id}'",
        "endpoint None vs 'empty'",
        "verdict fail/legacy-argv vs pass",
    ]
    # A skipped twin or an errored replay judged nothing: not a comparison.
    assert compare(_cell("pass", None, four), _cell("skipped", "requirement-missing", None)) is None
    assert compare(_cell("error", "timeout", None), _cell("pass", None, four)) is None


def _document(run_argc: int) -> dict[str, Any]:
    """matrix.build over ecspresso 1.5.9's replay and run twin: the replay's cells as it
    reproduces them, the run's with ``run_argc`` argv in the kms columns."""
    cells = plan(
        load_adapters(),
        filters=Filters(
            adapters=("ecspresso/1.5.9", "ecspresso/1.5.9-run", "ecspresso/1.6.0"),
            scenarios=("shell", "kms"),
            releases=("1.2.677.0",),
        ),
    )
    results = []
    for cell in cells:
        argc = run_argc if cell.variant.id == "1.5.9-run" and cell.scenario.name == "kms" else 4
        legacy = cell.scenario.name == "kms" and argc == 4
        results.append(
            CellResult(
                id=cell.id,
                tool=cell.adapter.name,
                variant=cell.variant.id,
                scenario=cell.scenario.name,
                release=cell.release,
                outcome="fail" if legacy else "pass",
                reason="legacy-argv" if legacy else None,
                argv_shape=shape(*["StartSession", "", TARGET, ""][: argc - 3]),
            )
        )
    return matrix.build(cells, results, started=0.0, finished=1.0, jobs=1, timeout=60)


def test_the_matrix_marks_a_replay_checked_against_its_real_release() -> None:
    document = _document(run_argc=4)
    validate(document, source="built")
    assert document["replay_checks"] == {
        "ecspresso/1.5.9": {
            "row": "ecspresso/1.5.9-run",
            "cells": 2,
            "agree": True,
            "disagreements": [],
        }
    }
    text = markdown.render(document)
    assert "| ecspresso | 1.5.9 | replay ✓ |" in text
    assert "- ✓ ecspresso 1.5.9: checked against the real program (ecspresso/1.5.9-run)" in text
    page = html.render(document)
    assert '<span class="checked" title="checked against the real program: ' in page
    assert page.count('class="checked"') == 1


def test_a_disagreement_is_shown_not_hidden() -> None:
    document = _document(run_argc=7)
    check = document["replay_checks"]["ecspresso/1.5.9"]
    assert check["agree"] is False
    assert check["disagreements"][0] == "kms/1.2.677.0: argc 4 vs 7"
    assert "verdict fail/legacy-argv vs pass" in check["disagreements"][-1]
    assert "- ≠ ecspresso 1.5.9: the real program (ecspresso/1.5.9-run) disagrees: " in (
        markdown.render(document)
    )
    assert 'class="disagrees"' in html.render(document)
    rows = document["rows"]
    cells = document["cells"]
    # The same function recomputes it from matrix.json alone (sharded runs, reports).
    assert checked_against(rows, cells) == document["replay_checks"]


def _row(variant: str, version: str, mode: str, tool: str = "copilot") -> dict[str, Any]:
    return {"id": f"{tool}/{variant}", "tool": tool, "variant": variant, "version": version} | {
        "mode": mode
    }


def test_the_exact_release_measures_a_replay_first_then_releases_inside_its_range() -> None:
    replay = _row("1.33.2", "1.4.0-1.33.2", "replay")
    rows = [
        replay,
        _row("1.3.0", "1.3.0", "run"),  # before the range
        _row("1.20.0", "1.20.0", "run"),
        _row("1.33.0", "1.33.0", "run"),
        _row("1.33.2-run", "1.33.2", "run"),
        _row("1.34.1", "1.34.1", "run"),  # after it: the argv changed there
        _row("installed", "installed", "run"),  # not a release
        _row("1.33.1", "1.33.1", "replay"),  # a replay measures nothing
        _row("1.33.1", "1.33.1", "run", tool="other"),
    ]
    assert twins_of(replay, rows) == ["copilot/1.33.2-run", "copilot/1.33.0", "copilot/1.20.0"]
    # One release, not a range: only the exact twin.
    assert twins_of(_row("1.5.9", "1.5.9", "replay"), [_row("1.5.10", "1.5.10", "run")]) == []


def test_a_release_inside_the_range_stands_in_when_the_exact_one_judged_nothing() -> None:
    replay = _row("1.33.2", "1.4.0-1.33.2", "replay")
    rows = [replay, _row("1.33.2-run", "1.33.2", "run"), _row("1.33.0", "1.33.0", "run")]
    four = shape("StartSession")

    def cells(exact: str) -> list[dict[str, Any]]:
        found = [
            {"row": "copilot/1.33.2", "column": "kms/1.2.677.0"}
            | _cell("fail", "legacy-argv", four),
            {"row": "copilot/1.33.0", "column": "kms/1.2.677.0"}
            | _cell("fail", "legacy-argv", four),
        ]
        skipped = _cell("skipped", "requirement-missing", None)
        judged = _cell("fail", "legacy-argv", four)
        row = {"row": "copilot/1.33.2-run", "column": "kms/1.2.677.0"}
        return [*found, row | (judged if exact == "judged" else skipped)]

    assert checked_against(rows, cells("judged"))["copilot/1.33.2"]["row"] == "copilot/1.33.2-run"
    stand_in = checked_against(rows, cells("skipped"))["copilot/1.33.2"]
    assert stand_in == {"row": "copilot/1.33.0", "cells": 1, "agree": True, "disagreements": []}
