"""``smp-compat diff`` and ``smp-compat report`` through the CLI, in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compat.cli import main
from compat.report.diff import compare, render
from tests.compat.report import gfm
from tests.compat.report.conftest import flipped


def _save(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_a_matrix_against_itself_reports_nothing(
    tmp_path: Path, document: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    path = _save(tmp_path / "m.json", document)
    assert main(["diff", str(path), str(path)]) == 0
    out = capsys.readouterr().out
    assert out == "<!-- smp-compat -->\n### ✅ smp-compat: no changes in 216 cells\n\n"


def test_one_cell_flipped_to_fail_is_exactly_the_one_reported(
    tmp_path: Path, document: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    index = next(
        i for i, c in enumerate(document["cells"]) if c["outcome"] == "pass" and not c["warnings"]
    )
    cell = document["cells"][index]
    base = _save(tmp_path / "base.json", document)
    head = _save(tmp_path / "head.json", flipped(document, index))
    assert main(["diff", str(base), str(head)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("<!-- smp-compat -->\n### ❌ smp-compat: 1 regression\n")
    rows = [
        line
        for line in out.splitlines()
        if line.startswith("| ") and not line.startswith("| tool/variant")
    ]
    assert len(rows) == 1
    assert rows[0].startswith(
        f"| {cell['row']} | {cell['column']} | ✅ pass | ❌ fail `target-mismatch` | "
    )
    # On GitHub the fix reads as the kit wrote it: no <em> from the underscores (issue 14).
    shown = gfm.text(
        gfm.render(f"| a |\n|---|\n| {rows[0].removesuffix(' |').rsplit(' | ', 1)[1]} |")
    )
    assert shown.strip().splitlines()[-1] == (
        "Build the Target as ecs:<cluster name>_<task id>_<container runtimeId> from the "
        "last segments of clusterArn/taskArn and DescribeTasks' runtimeId "
        "(not ARNs, not an empty id)."
    )


def test_fixes_changes_new_and_removed(document: dict[str, Any]) -> None:
    fail = next(i for i, c in enumerate(document["cells"]) if c["outcome"] == "fail")
    head = flipped(document, fail, "pass")
    head["cells"][fail].update(reason=None, explanation="", remedy="")
    skipped = next(i for i, c in enumerate(head["cells"]) if c["outcome"] == "skipped")
    head["cells"][skipped]["reason"] = "version-mismatch"
    moved = head["cells"].pop(0)
    head["cells"].append({**moved, "column": "kms/9.9.9.9", "release": "9.9.9.9"})
    diff = compare(document, head)
    assert [c.key for c in diff.fixes] == [
        (document["cells"][fail]["row"], document["cells"][fail]["column"])
    ]
    assert (
        len(diff.changed) == 1
        and len(diff.new) == 1
        and len(diff.removed) == 1
        and not diff.regressions
    )
    text = render(diff)
    assert "1 fix, 1 changed cell, 1 new cell, 1 removed cell" in text


def test_the_comment_stays_under_its_budget_and_counts_what_it_left_out(
    document: dict[str, Any],
) -> None:
    head = document
    base = json.loads(json.dumps(document))
    for cell in head["cells"]:
        if cell["outcome"] == "fail":
            cell_base = next(c for c in base["cells"] if c["id"] == cell["id"])
            cell_base.update(outcome="pass", reason=None)
    diff = compare(base, head)
    assert len(diff.regressions) == 63
    text = render(diff, max_bytes=4_000, marker="my-tool")
    assert len(text.encode()) <= 4_000
    assert text.startswith("<!-- my-tool -->\n### ❌ smp-compat: 63 regressions")
    shown = sum(
        1 for line in text.splitlines() if line.startswith("| ") and "tool/variant" not in line
    )
    assert f"*… and {63 - shown} more changes not shown" in text


def test_mismatched_schema_versions_are_a_clear_error(
    tmp_path: Path, document: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    head = _save(tmp_path / "head.json", document)
    base = _save(tmp_path / "base.json", {**document, "schema_version": 2})
    assert main(["diff", str(base), str(head)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"smp-compat diff: error: {base}: $.schema_version: schema_version 2; "
        "this smp-compat reads schema_version 1: "
        "read it with the smp-compat release that wrote it, or upgrade this one\n"
    )


def test_a_missing_base_can_count_as_empty(
    tmp_path: Path, document: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    head = _save(tmp_path / "head.json", document)
    assert main(["diff", str(tmp_path / "none.json"), str(head)]) == 2
    assert (
        main(
            [
                "diff",
                str(tmp_path / "none.json"),
                str(head),
                "--missing-base-ok",
                "--out",
                str(tmp_path / "d.md"),
            ]
        )
        == 0
    )
    assert "216 new cells" in (tmp_path / "d.md").read_text()


def test_report_writes_every_file_and_the_step_summary(
    tmp_path: Path,
    built: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _save(tmp_path / "matrix.json", built)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "step.md"))
    assert main(["report", str(path)]) == 0
    for name in (
        "index.html",
        "matrix.md",
        "junit.xml",
        "badges/ecspresso.json",
        "badges/copilot.svg",
    ):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "step.md").read_text().startswith("## session-manager-plugin compatibility")
    out = capsys.readouterr().out
    assert "badge ecspresso: KMS exec: passing (ecspresso/2.3.2-run)" in out
    assert main(["report", str(path), "--out", str(tmp_path / "other"), "--no-summary"]) == 0
    assert (tmp_path / "other" / "index.html").is_file()
    assert (tmp_path / "step.md").read_text().count("## session-manager-plugin compatibility") == 1
