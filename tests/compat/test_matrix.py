"""matrix.json: versioned, complete, round-trips (matrix.md is compat.report.markdown's)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from compat.adapter.load import load_adapters
from compat.plan.cells import Filters, plan
from compat.report import matrix
from compat.runner.result import CellResult
from compat.verdict.reasons import REASONS


def _results() -> tuple[list, list[CellResult]]:  # type: ignore[type-arg]
    cells = plan(
        load_adapters(),
        filters=Filters(adapters=("ecspresso/1.5.9",), scenarios=("shell", "kms", "port-forward"),
                        releases=("1.2.234.0", "1.2.677.0")),
    )  # fmt: skip
    results = []
    for cell in cells:
        base = dict(
            id=cell.id, tool=cell.adapter.name, variant=cell.variant.id,
            scenario=cell.scenario.name, release=cell.release, duration_s=0.5, tool_duration_s=0.3,
        )  # fmt: skip
        if cell.not_applicable:
            results.append(CellResult(outcome="n/a", reason=cell.not_applicable, **base))
        elif cell.scenario.name == "kms":
            reason = REASONS["legacy-argv"]
            results.append(
                CellResult(
                    outcome="fail",
                    reason="legacy-argv",
                    explanation=reason.explanation,
                    remedy=reason.remedy,
                    detail="argc 4",
                    evidence={"plugin_record": "evidence/x/plugin-record.jsonl"},
                    **base,
                )
            )
        else:
            results.append(CellResult(outcome="pass", warnings=("endpoint-not-ssm",), **base))
    return cells, results


def _document() -> dict:  # type: ignore[type-arg]
    cells, results = _results()
    return matrix.build(cells, results, started=1000.0, finished=1010.0, jobs=2, timeout=60)


def test_the_document_is_versioned_and_complete() -> None:
    doc = _document()
    assert doc["schema_version"] == matrix.SCHEMA_VERSION
    run = doc["run"]
    assert run["duration_s"] == 10.0 and run["jobs"] == 2
    assert run["plugin"] == {
        "kind": "fake",
        "real_binary": None,
        "releases": ["1.2.234.0", "1.2.677.0"],
    }
    assert run["moto_version"] and run["host"]["python"]
    assert run["cells_per_second"] == 0.6
    (row,) = doc["rows"]
    assert row["id"] == "ecspresso/1.5.9" and row["mode"] == "replay"
    assert row["source"].startswith("kayac/ecspresso@") and row["source_url"].startswith("https://")
    assert [c["id"] for c in doc["columns"]][:2] == ["shell/1.2.234.0", "shell/1.2.677.0"]
    assert doc["summary"] == {"pass": 2, "fail": 2, "error": 0, "skipped": 0, "n/a": 2}
    cell = next(c for c in doc["cells"] if c["outcome"] == "fail")
    assert cell["row"] == "ecspresso/1.5.9" and cell["column"] == "kms/1.2.234.0"
    assert cell["remedy"] == REASONS["legacy-argv"].remedy


def test_only_the_run_header_holds_times_and_host_paths() -> None:
    doc = _document()
    assert not any("duration_s" in c or "tool_duration_s" in c for c in doc["cells"])
    slowest = doc["run"]["slowest_cells"]
    assert len(slowest) == matrix.SLOWEST
    assert slowest[0] == {
        "id": "ecspresso/1.5.9/shell/1.2.234.0",
        "duration_s": 0.5,
        "tool_duration_s": 0.3,
    }
    # A built-in adapter by its path in the package, not where the kit is installed.
    assert [r["adapter_file"] for r in doc["rows"]] == ["adapters/ecspresso.toml"]
    assert "started_at" not in json.dumps({k: v for k, v in doc.items() if k != "run"})


def test_a_users_adapter_is_named_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inside = tmp_path / "repo" / "smp-compat" / "mytool.toml"
    inside.parent.mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "repo")
    assert matrix.adapter_file(inside) == "smp-compat/mytool.toml"
    outside = tmp_path / "elsewhere.toml"
    assert matrix.adapter_file(outside) == str(outside)


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    doc = _document()
    json_path = matrix.write(doc, tmp_path)
    assert json.loads(json_path.read_text(encoding="utf-8")) == json.loads(json.dumps(doc))
    assert [p.name for p in tmp_path.iterdir()] == ["matrix.json"]  # no temporary file left
    umask = os.umask(0o022)
    os.umask(umask)
    assert json_path.stat().st_mode & 0o777 == 0o666 & ~umask  # readable like any report
    restored = [
        CellResult.from_json({k: v for k, v in c.items() if k not in ("row", "column")})
        for c in doc["cells"]
    ]
    # Durations differ on every run: cells carry none (the run header has the slowest).
    assert restored == [replace(r, duration_s=0.0, tool_duration_s=0.0) for r in _results()[1]]
