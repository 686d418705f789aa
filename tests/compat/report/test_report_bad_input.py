"""Bad input to report, diff and merge: one clear line on stderr and exit 2, never a traceback.

Each case is the input an attacker or a broken CI step hands the kit (issue 13, "Low"), and a
Hypothesis fuzz test feeds mangled matrix.json documents to all three commands.
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compat.cli import main
from compat.report.errors import MatrixInvalidError
from compat.report.sample import sample_document
from compat.report.schema import validate


def _one_line_error(capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def _save(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document))
    return path


BAD_FILES = {
    "deeply-nested": "[" * 200_000 + "]" * 200_000,
    "deeply-nested-object": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "not-utf-8": b'{"schema_version": 1, "kind": "smp-compat-matrix\xff\xfe"}',
    "nan": '{"schema_version": 1, "duration_s": NaN}',
    "not-json": "{",
    "a-list": "[]",
}


@pytest.mark.parametrize("content", BAD_FILES.values(), ids=BAD_FILES.keys())
@pytest.mark.parametrize("command", ["report", "diff-base", "diff-head", "merge"])
def test_a_bad_matrix_is_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    document: dict[str, Any],
    content: str | bytes,
    command: str,
) -> None:
    bad = tmp_path / "bad.json"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content)
    good = _save(tmp_path / "good.json", document)
    argv = {
        "report": ["report", str(bad), "--out", str(tmp_path / "out"), "--no-summary"],
        "diff-base": ["diff", str(bad), str(good)],
        "diff-head": ["diff", str(good), str(bad)],
        "merge": ["merge", str(bad), "-o", str(tmp_path / "m" / "matrix.json")],
    }[command]
    assert main(argv) == 2
    _one_line_error(capsys, str(bad))
    assert not (tmp_path / "out").exists() and not (tmp_path / "m").exists()


def test_report_out_naming_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: dict[str, Any]
) -> None:
    good = _save(tmp_path / "matrix.json", document)
    (tmp_path / "file").write_text("mine")
    assert main(["report", str(good), "--out", str(tmp_path / "file"), "--no-summary"]) == 2
    _one_line_error(capsys, "is a file")
    assert (tmp_path / "file").read_text() == "mine"


def test_run_out_naming_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("mine")
    argv = ["run", "--adapter", "ecspresso/1.6.0", "--scenario", "shell", "--no-install"]
    assert main([*argv, "--out", str(tmp_path / "file")]) == 2
    _one_line_error(capsys, "is a file")
    assert (tmp_path / "file").read_text() == "mine"


def test_diff_out_into_a_missing_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: dict[str, Any]
) -> None:
    good = _save(tmp_path / "matrix.json", document)
    out = tmp_path / "no" / "such" / "diff.md"
    assert main(["diff", str(good), str(good), "--out", str(out)]) == 2
    _one_line_error(capsys, "no directory")


def test_diff_marker_that_would_close_its_comment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: dict[str, Any]
) -> None:
    good = _save(tmp_path / "matrix.json", document)
    assert main(["diff", str(good), str(good), "--marker", "x --><img src=x>"]) == 2
    _one_line_error(capsys, "--marker")


@pytest.mark.parametrize("where", ["directory", "missing-parent"])
def test_a_bad_step_summary(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    document: dict[str, Any],
    where: str,
) -> None:
    good = _save(tmp_path / "matrix.json", document)
    target = tmp_path if where == "directory" else tmp_path / "no" / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    assert main(["report", str(good)]) == 2
    _one_line_error(capsys, "GITHUB_STEP_SUMMARY", "the reports are written")
    assert (tmp_path / "index.html").is_file()


def test_run_validation_refuses_nan_before_it_reaches_the_page(document: dict[str, Any]) -> None:
    """``timeout = nan`` used to reach matrix.json as ``NaN`` and break the page's script."""
    document["run"]["timeout_s"] = float("nan")
    with pytest.raises(MatrixInvalidError, match=r"\$\.run\.timeout_s: nan is not a finite"):
        validate(document)
    document["run"]["timeout_s"] = 60.0
    document["cells"][3]["duration_s"] = float("inf")
    with pytest.raises(MatrixInvalidError, match=r"\$\.cells\[3\]\.duration_s"):
        validate(document)


# -- merge of tampered parts ----------------------------------------------------------------------


def _parts(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    document = sample_document(rows=4, scenarios=["kms"], releases=("1.2.677.0",))
    document["run"]["plan_fingerprint"] = "sha256:0"
    halves = (document["cells"][:2], document["cells"][2:])
    parts = []
    for index, cells in enumerate(halves, 1):
        part = copy.deepcopy(document)
        part["cells"] = copy.deepcopy(cells)
        part["run"]["shard"] = {"index": index, "count": 2, "plan_cells": len(document["cells"])}
        part["summary"] = dict.fromkeys(part["summary"], 0)
        for cell in part["cells"]:
            part["summary"][cell["outcome"]] += 1
        parts.append(part)
    return parts[0], parts[1]


def _merge(tmp_path: Path, one: dict[str, Any], two: dict[str, Any]) -> int:
    paths = [_save(tmp_path / "1.json", one), _save(tmp_path / "2.json", two)]
    return main(["merge", *map(str, paths), "-o", str(tmp_path / "m" / "matrix.json")])


def test_untampered_parts_merge(tmp_path: Path) -> None:
    assert _merge(tmp_path, *_parts(tmp_path)) == 0


def _move_cell(part: dict[str, Any], row: dict[str, Any]) -> None:
    """Put the part's first cell on another row, keeping its own id (a forged verdict)."""
    part["cells"][0]["row"] = row["id"]


TAMPERING = {
    "cell-on-another-row": (
        lambda one, two: _move_cell(two, one["rows"][0]),
        "differs from its row",
    ),
    "same-cell-twice": (
        lambda one, two: (
            two["cells"].__setitem__(0, copy.deepcopy(one["cells"][0]))
            or two["summary"].update(
                {k: sum(c["outcome"] == k for c in two["cells"]) for k in two["summary"]}
            )
        ),
        "is also in",
    ),
    "renamed-row": (
        lambda one, two: two["rows"][0].update(id="forged/row"),
        "is not tool/variant",
    ),
    "summary-changed": (
        lambda one, two: two["summary"].update(fail=two["summary"]["fail"] + 1),
        "does not match the cells",
    ),
    "other-plan": (
        lambda one, two: two["run"].update(plan_fingerprint="sha256:1"),
        "parts of different runs",
    ),
}


@pytest.mark.parametrize(("tamper", "message"), TAMPERING.values(), ids=TAMPERING.keys())
def test_merge_refuses_a_tampered_part(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tamper: Any, message: str
) -> None:
    one, two = _parts(tmp_path)
    tamper(one, two)
    assert _merge(tmp_path, one, two) == 2
    _one_line_error(capsys, message)
    assert not (tmp_path / "m").exists()


# -- fuzz -----------------------------------------------------------------------------------------

_SMALL = sample_document(rows=2, scenarios=["kms"], releases=("1.2.234.0", "1.2.677.0"))
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def _mangled(draw: st.DrawFn) -> object:
    """A valid small matrix with a few values replaced or removed, anywhere in it."""
    document: Any = copy.deepcopy(_SMALL)
    for _ in range(draw(st.integers(1, 3))):
        node = document
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, dict | list) and child and draw(st.booleans()):
                node = child
                continue
            if isinstance(node, dict) and draw(st.integers(0, 4)) == 0:
                del node[key]
            else:
                node[key] = draw(_JSON)
            break
    return document


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    # Generation time depends on the machine's load, not on the code under test.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=_mangled())
def test_fuzzed_matrices_never_give_a_traceback(
    document: object, capsys: pytest.CaptureFixture[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = _save(root / "matrix.json", document)
        good = _save(root / "good.json", _SMALL)
        for argv in (
            ["report", str(path), "--out", str(root / "out"), "--no-summary"],
            ["diff", str(good), str(path), "--out", str(root / "diff.md")],
            ["diff", str(path), str(good), "--out", str(root / "diff.md")],
            ["merge", str(path), "-o", str(root / "m" / "matrix.json")],
        ):
            assert main(argv) in (0, 1, 2), argv
            err = capsys.readouterr().err
            assert "Traceback" not in err and err.count("\n") <= 1, err
