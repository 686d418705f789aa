"""Reports written whole or not at all (issue 13, item 6), each test written as the attack.

The report directory is read and uploaded while a new run is on its way; a failure, Ctrl-C or a
kill must leave the previous report and the evidence it links to as they were, and the kit
deletes nothing it did not write.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import compat.fakeaws
import compat.runner
from compat.cli import main
from compat.report import badges
from compat.runner.result import CellResult

ROOT = Path(__file__).resolve().parents[3]


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def previous(tmp_path: Path, document: dict[str, Any]) -> Path:
    """A report directory as the previous run left it, plus a file of the user's own."""
    out = tmp_path / "reports"
    out.mkdir()
    (out / "matrix.json").write_text(json.dumps(document))
    assert main(["report", str(out / "matrix.json"), "--no-summary"]) == 0
    evidence = out / "evidence" / "old-cell"
    evidence.mkdir(parents=True)
    (evidence / "plugin-record.jsonl").write_text("{}\n")
    (out / "NOTES.md").write_text("the user's own file")
    return out


def test_a_report_that_fails_half_way_leaves_the_old_one(
    previous: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to write index.html, matrix.md and junit.xml, then fail on the badges."""
    before = _snapshot(previous)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(36, "File name too long")

    monkeypatch.setattr(badges, "write", broken)
    document = json.loads((previous / "matrix.json").read_text())
    document["run"]["finished_at"] = "2030-01-01T00:00:00Z"  # a different report
    new = previous.parent / "new.json"
    new.write_text(json.dumps(document))
    with pytest.raises(OSError, match="too long"):
        main(["report", str(new), "--out", str(previous), "--no-summary"])
    assert _snapshot(previous) == before
    assert sorted(p.name for p in previous.iterdir()) == sorted(
        ["matrix.json", "matrix.md", "index.html", "junit.xml", "badges", "evidence", "NOTES.md"]
    )


def test_a_300_character_tool_name_gets_its_badge(tmp_path: Path, document: dict[str, Any]) -> None:
    """It used to fail with ENAMETOOLONG (and leave a half-written report)."""
    long_name = "t" * 300
    old = document["rows"][0]["tool"]
    for row in document["rows"]:
        if row["tool"] == old:
            row["tool"] = long_name
            row["id"] = f"{long_name}/{row['variant']}"
    for cell in document["cells"]:
        if cell["tool"] == old:
            cell["tool"] = long_name
            cell["row"] = f"{long_name}/{cell['variant']}"
            cell["id"] = f"{cell['row']}/{cell['column']}"
    (tmp_path / "matrix.json").write_text(json.dumps(document))
    assert main(["report", str(tmp_path / "matrix.json"), "--no-summary"]) == 0
    names = [p.name for p in (tmp_path / "badges").iterdir() if p.name.startswith("ttt")]
    assert len(names) == 2 and all(len(n) < 120 for n in names)


def test_report_replaces_its_own_files_and_nothing_else(
    previous: Path, document: dict[str, Any]
) -> None:
    document["run"]["finished_at"] = "2030-01-01T00:00:00Z"
    (previous / "matrix.json").write_text(json.dumps(document))
    assert main(["report", str(previous / "matrix.json"), "--no-summary"]) == 0
    assert "2030-01-01" in (previous / "index.html").read_text()
    assert (previous / "NOTES.md").read_text() == "the user's own file"
    assert (previous / "evidence" / "old-cell" / "plugin-record.jsonl").is_file()
    assert not [p for p in previous.iterdir() if p.name.startswith(".")]  # no staging left


# -- run --out: a fake runner, so the test is about writing, not about running cells ------------

FILTER = ["--adapter", "ecspresso/1.6.0", "--scenario", "shell", "--release", "1.2.677.0"]


def _fake_run_cells(cells: Any, *, out_dir: Path, **kwargs: Any) -> list[CellResult]:
    results = []
    for cell in cells:
        evidence = out_dir / "evidence" / cell.id.replace("/", "__")
        evidence.mkdir(parents=True)
        (evidence / "plugin-record.jsonl").write_text("{}\n")
        results.append(
            CellResult(
                id=cell.id, tool=cell.adapter.name, variant=cell.variant.id,
                scenario=cell.scenario.name, release=cell.release, outcome="pass",
                evidence={"plugin_record": f"{evidence.relative_to(out_dir)}/plugin-record.jsonl"},
            )
        )  # fmt: skip
    return results


class _NoFake:
    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None


def test_run_keeps_the_previous_report_until_the_new_one_replaces_it(
    previous: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to delete DIR/evidence before anything ran."""
    seen: dict[str, bool] = {}

    def run_cells(cells: Any, **kwargs: Any) -> list[CellResult]:
        seen["old evidence while running"] = (previous / "evidence" / "old-cell").is_dir()
        return _fake_run_cells(cells, **kwargs)

    monkeypatch.setattr(compat.runner, "run_cells", run_cells)
    monkeypatch.setattr(compat.fakeaws, "FakeAWS", _NoFake)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert main(["run", *FILTER, "--out", str(previous), "--no-install"]) == 0
    assert seen == {"old evidence while running": True}
    document = json.loads((previous / "matrix.json").read_text())
    (cell,) = document["cells"]
    assert (previous / cell["evidence"]["plugin_record"]).is_file()
    assert not (previous / "evidence" / "old-cell").exists()  # replaced, with the report
    assert (previous / "NOTES.md").read_text() == "the user's own file"
    assert not [p for p in previous.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("failure", ["start", "interrupt"])
def test_a_failed_start_or_ctrl_c_leaves_the_previous_report(
    previous: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    class FailingFake(_NoFake):
        def start(self) -> None:
            raise OSError("address in use")

    def interrupted(cells: Any, **kwargs: Any) -> list[CellResult]:
        _fake_run_cells(cells[:1], **kwargs)  # some evidence written already
        raise KeyboardInterrupt

    before = _snapshot(previous)
    if failure == "start":
        monkeypatch.setattr(compat.fakeaws, "FakeAWS", FailingFake)
    else:
        monkeypatch.setattr(compat.fakeaws, "FakeAWS", _NoFake)
        monkeypatch.setattr(compat.runner, "run_cells", interrupted)
    code = main(["run", *FILTER, "--out", str(previous), "--no-install"])
    assert code == (2 if failure == "start" else 130)
    assert _snapshot(previous) == before
    assert not [p for p in previous.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_a_killed_run_leaves_the_previous_report_and_the_next_run_clears_its_staging(
    previous: Path,
) -> None:
    """SIGKILL gives no chance to clean up: the staging directory stays, the report is whole,
    and the next command that writes there removes the dead run's staging."""
    before = _snapshot(previous)
    script = (
        "import compat.runner, time\n"
        "def hang(cells, **kw):\n"
        "    (kw['out_dir'] / 'evidence' / 'x').mkdir()\n"
        "    print('running', flush=True); time.sleep(60)\n"
        "compat.runner.run_cells = hang\n"
        "from compat.cli import main\n"
        f"main(['run', *{FILTER!r}, '--out', {str(previous)!r}, '--no-install'])\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while proc.stdout.readline().strip() != "running":
            assert time.monotonic() < deadline and proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _snapshot(previous) == {
        **before,
        **{k: v for k, v in _snapshot(previous).items() if k.startswith(".smp-compat-")},
    }
    assert [p for p in previous.iterdir() if p.name.startswith(".smp-compat-")]
    assert main(["report", str(previous / "matrix.json"), "--no-summary"]) == 0
    assert not [p for p in previous.iterdir() if p.name.startswith(".")]
