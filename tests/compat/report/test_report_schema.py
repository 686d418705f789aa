"""matrix.schema.json: what ``matrix.build`` writes validates; bad files name the JSON path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from compat.errors import UserError
from compat.report import matrix, schema
from compat.report.bundle import load
from compat.report.errors import MatrixInvalidError, MatrixVersionError


def test_the_schema_is_draft_2020_12_and_itself_valid() -> None:
    loaded = schema.load_schema()
    assert loaded["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(loaded)
    assert (
        loaded["properties"]["schema_version"]["const"]
        == matrix.SCHEMA_VERSION
        == schema.SCHEMA_VERSION
    )


def test_what_the_runner_builds_validates(built: dict[str, Any]) -> None:
    schema.validate(json.loads(json.dumps(built)))


def test_the_sample_validates(document: dict[str, Any]) -> None:
    schema.validate(document)


def test_another_schema_version_says_what_this_kit_reads_and_what_to_do(
    document: dict[str, Any],
) -> None:
    document["schema_version"] = 2
    with pytest.raises(MatrixVersionError) as caught:
        schema.validate(document, source="reports/matrix.json")
    message = str(caught.value)
    assert isinstance(caught.value, UserError)
    assert message.startswith("reports/matrix.json: $.schema_version: schema_version 2;")
    assert "this smp-compat reads schema_version 1" in message and "upgrade" in message
    document["schema_version"] = 0
    with pytest.raises(MatrixVersionError, match="re-run `smp-compat run`"):
        schema.validate(document)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["cells"][3].update(outcome="passed"), "$.cells[3].outcome"),
        (lambda d: d["cells"][5].update(reason="Legacy Argv"), "$.cells[5].reason"),
        (lambda d: d["cells"][7].update(evidence={"x": "/etc/passwd"}), "$.cells[7].evidence.x"),
        (
            lambda d: d["cells"][7].update(evidence={"x": "javascript:alert(1)"}),
            "$.cells[7].evidence.x",
        ),
        (lambda d: d["cells"][7].update(evidence={"x": "../../secret"}), "$.cells[7].evidence.x"),
        (lambda d: d["rows"][0].update(mode="live"), "$.rows[0].mode"),
        (lambda d: d["cells"][0].update(row="nope/1"), "$.cells[0].row"),
        (lambda d: d["cells"].append(copy.deepcopy(d["cells"][0])), "$.cells[216]"),
        (lambda d: d["summary"].update(fail=0), "$.summary"),
        (lambda d: d.update(secret="x"), "$"),
        (lambda d: d["run"].pop("finished_at"), "$.run"),
    ],
    ids=["outcome", "reason-case", "absolute-evidence", "url-evidence", "dotdot-evidence", "mode",
         "dangling-row", "duplicate-cell", "summary", "unknown-key", "missing-key"],
)  # fmt: skip
def test_a_bad_document_names_the_json_path(
    document: dict[str, Any], change: Any, path: str
) -> None:
    change(document)
    with pytest.raises(MatrixInvalidError) as caught:
        schema.validate(document)
    assert caught.value.path == path, str(caught.value)


def test_a_failing_cell_needs_a_reason(document: dict[str, Any]) -> None:
    cell = next(c for c in document["cells"] if c["outcome"] == "fail")
    cell["reason"] = None
    with pytest.raises(MatrixInvalidError, match="reason"):
        schema.validate(document)


def test_load_gives_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        load(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(UserError, match="not JSON"):
        load(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(UserError, match="expected a JSON object"):
        load(tmp_path / "list.json")
