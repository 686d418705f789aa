"""matrix.md, junit.xml, badges and the step summary, each checked against its consumer's rules."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from compat.report import badges, junit, markdown, summary
from compat.report.model import Matrix
from compat.report.sample import sample_document
from compat.verdict.reasons import REASONS
from tests.compat.report import gfm

#: The shields.io endpoint schema (services/endpoint-common.js, docs/ecosystem.md §4): unknown keys
#: are rejected, label may be empty, message may not.
SHIELDS_ENDPOINT = {
    "type": "object",
    "required": ["schemaVersion", "label", "message"],
    "additionalProperties": False,
    "properties": {
        "schemaVersion": {"const": 1},
        "label": {"type": "string"},
        "message": {"type": "string", "minLength": 1},
        "color": {"type": "string", "minLength": 1},
        "labelColor": {"type": "string"},
        "isError": {"type": "boolean"},
        "namedLogo": {"type": "string"},
        "logoSvg": {"type": "string"},
        "logoColor": {"type": "string"},
        "logoWidth": {"type": "integer"},
        "style": {"enum": ["plastic", "flat", "flat-square", "for-the-badge", "social"]},
        "cacheSeconds": {"type": "integer", "minimum": 0},
    },
}


# -- Markdown -------------------------------------------------------------------------------------


def test_markdown_has_a_row_per_variant_a_pass_rate_and_each_fix_once(
    document: dict[str, Any],
) -> None:
    text = markdown.render(document)
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(document["rows"]) + 1  # header, rows, pass rate
    assert table[0] == (
        "| tool | version | mode | shell | kms | kms-profile | kms-env-credentials | kms-region "
        "| port-forward |"
    )
    assert (
        "| ecsta | 3.2.1 | replay | ✅✅✅ | ❌❌❌ | ❌❌❌ | ❌❌❌ | ❌❌❌ "
        "| \N{HEAVY MINUS SIGN}\N{HEAVY MINUS SIGN}\N{HEAVY MINUS SIGN} |" in table
    )
    assert table[-1] == "| **passing** | | | 93% | 57% | 57% | 48% | 57% | 85% |"
    assert text.count("**`legacy-argv`**") == 1
    # What GitHub shows (cmark-gfm): ids and the kit's texts read as written, code stays code.
    html = gfm.render(text)
    shown = gfm.text(html)
    assert "ecsta/3.2.1: kms, kms-profile, kms-env-credentials, kms-region" in shown
    assert "aws-gate/2.0.5: shell (1.2.234.0, 1.2.497.0)" in shown
    assert "<session json>" in shown and "<session" not in html
    assert "<code>aws ecs execute-command</code>" in html
    assert "Not tried (requirement-missing): awscli-v2/1.9.3" in shown


def test_markdown_stays_short(document: dict[str, Any]) -> None:
    assert len(markdown.render(document).encode()) < 8_000  # 216 cells, about a screenful


def test_markdown_escapes_table_breakers(document: dict[str, Any]) -> None:
    document["rows"][0]["version"] = "1.0|<b>x</b>"
    assert "| 1.0\\|\\<b\\>x\\</b\\> |" in markdown.render(document)


# -- JUnit ----------------------------------------------------------------------------------------


def test_junit_has_exactly_one_testcase_per_cell(tmp_path: Path, document: dict[str, Any]) -> None:
    path = junit.write(document, tmp_path / "junit.xml")
    xml = JUnitXml.fromfile(str(path))
    cases = [(suite, case) for suite in xml for case in suite]
    assert len(cases) == len(document["cells"])
    names = {(case.classname, case.name) for _, case in cases}
    assert names == {
        (f"{c['tool']}.{c['variant']}", f"{c['scenario']}[{c['release']}]")
        for c in document["cells"]
    }
    assert xml.tests == len(document["cells"])
    assert (
        xml.failures == document["summary"]["fail"] and xml.errors == document["summary"]["error"]
    )
    assert xml.skipped == document["summary"]["skipped"] + document["summary"]["n/a"]


def test_junit_results_carry_reason_remedy_and_versions(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    xml = JUnitXml.fromfile(str(junit.write(document, tmp_path / "junit.xml")))
    by_name = {(case.classname, case.name): (suite, case) for suite in xml for case in suite}
    suite, case = by_name[("ecsta.3.2.1", "kms[1.2.234.0]")]
    (failure,) = case.result
    assert isinstance(failure, Failure) and failure.type == "legacy-argv"
    assert failure.message.startswith("legacy-argv: The plugin got 4 argv entries")
    assert f"fix: {REASONS['legacy-argv'].remedy}" in failure.text
    assert {p.name: p.value for p in suite.properties()}["version"] == "3.2.1"
    root = ET.parse(tmp_path / "junit.xml").getroot()
    props = root.find(".//testcase[@classname='ecsta.3.2.1'][@name='kms[1.2.234.0]']/properties")
    assert {p.get("name"): p.get("value") for p in props} == {
        "plugin_release": "1.2.234.0",
        "tool_version": "3.2.1",
    }
    _, skipped = by_name[("awscli-v2.1.9.3", "shell[1.2.234.0]")]
    assert (
        isinstance(skipped.result[0], Skipped)
        and "requirement-missing" in skipped.result[0].message
    )
    _, na = by_name[("ecsta.3.2.1", "port-forward[1.2.677.0]")]
    assert isinstance(na.result[0], Skipped) and na.result[0].message.startswith(
        "n/a: unsupported-scenario"
    )
    _, error = by_name[("ecsk.2.0.19", "port-forward[1.2.677.0]")]
    assert isinstance(error.result[0], Error)
    _, warned = by_name[("awscli-v1.3.7.12", "kms[1.2.677.0]")]
    assert warned.is_passed and "endpoint-not-ssm" in warned.system_out


# -- badges ---------------------------------------------------------------------------------------


def test_badge_json_is_exactly_the_shields_endpoint_schema(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    made = badges.write(document, tmp_path)
    assert len(made) == len({r["tool"] for r in document["rows"]})
    for badge in made:
        data = json.loads((tmp_path / f"{badge.filename}.json").read_text())
        jsonschema.validate(data, SHIELDS_ENDPOINT)
        assert set(data) == {"schemaVersion", "label", "message", "color"}
        svg = ET.parse(tmp_path / f"{badge.filename}.svg").getroot()
        assert svg.tag == "{http://www.w3.org/2000/svg}svg"
        assert badge.message in (tmp_path / f"{badge.filename}.svg").read_text()


def test_badge_messages(document: dict[str, Any]) -> None:
    by_tool = {b.tool: b for b in badges.badges(document)}
    assert by_tool["ecspresso"].endpoint() == {
        "schemaVersion": 1,
        "label": "ecspresso",
        "message": "KMS exec: passing",
        "color": "brightgreen",
    }
    assert (by_tool["ecsta"].message, by_tool["ecsta"].color) == ("12/15 failing", "red")
    assert by_tool["ecsk"].message == "1/18 failing"  # a cell without a verdict is never a pass
    assert by_tool["awscli-v1"].message == "KMS exec: passing, 18 warnings"
    assert (by_tool["awscli-v2"].message, by_tool["awscli-v2"].color) == (
        "KMS exec: not tested",
        "lightgrey",
    )


def test_a_badge_speaks_for_the_current_version_not_history(built: dict[str, Any]) -> None:
    by_tool = {b.tool: b for b in badges.badges(built)}
    # ecspresso 1.5.9 fails KMS (replayed history); "installed" was skipped; 2.3.2 is the
    # newest release run for real.
    assert by_tool["ecspresso"].rows == ("ecspresso/2.3.2-run",)
    assert by_tool["ecspresso"].message == "KMS exec: passing"
    assert by_tool["copilot"].rows == ("copilot/1.34.1",)


# -- step summary ---------------------------------------------------------------------------------


def test_summary_appends_when_the_variable_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "summary.md"
    monkeypatch.delenv(summary.ENV, raising=False)
    assert summary.append("# x\n") is None
    monkeypatch.setenv(summary.ENV, str(target))
    target.write_text("earlier step\n")
    assert summary.append("# matrix\n") == target
    assert target.read_text() == "earlier step\n\n# matrix\n"


def test_summary_respects_the_1024_kib_limit(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    target.write_text("x" * 1000_000)
    big = markdown.render(sample_document(rows=400))
    assert len(big.encode()) > 48_576
    summary.append(big, target)
    text = target.read_text()
    assert len(text.encode()) <= summary.LIMIT
    assert "cut to fit the 1024 KiB step-summary limit" in text
    target.write_text("x" * (summary.LIMIT - 100))
    assert summary.append(big, target) is None


def test_variants_sharing_a_version_are_told_apart(document: dict[str, Any]) -> None:
    """Two variants of one tool with the same version label (AWS CLI v1's ``ecs-exec`` and
    ``ssm-session``) are shown with their variant ids, in HTML and Markdown alike."""
    first = dict(document["rows"][0])
    twin = {**first, "id": f"{first['tool']}/twin", "variant": "twin"}
    document["rows"] = [first, twin, *document["rows"][1:]]
    labels = [Matrix(document).version_label(r) for r in (first, twin)]
    assert labels == [f"{first['version']} · {first['variant']}", f"{first['version']} · twin"]
    assert f"| {first['version']} · twin |" in markdown.render(document)


# -- The reconnect column -------------------------------------------------------------------------


def _reconnect_document() -> dict[str, Any]:
    """awscli-v1 through compat.report.matrix.build: shell passes with the static warning, reconnect
    fails resume-failed (what the AWS CLI's ECS endpoint in argv[6] leads to)."""
    from compat.adapter.load import load_adapters  # noqa: PLC0415
    from compat.plan.cells import Filters, plan  # noqa: PLC0415
    from compat.report import matrix  # noqa: PLC0415
    from compat.runner.result import CellResult  # noqa: PLC0415

    filters = Filters(
        adapters=("awscli-v1/*",), scenarios=("shell", "reconnect"), releases=("1.2.677.0",)
    )
    cells = plan(load_adapters(), filters=filters)
    failed = REASONS["resume-failed"]
    results = []
    for cell in cells:
        base = dict(
            id=cell.id,
            tool=cell.adapter.name,
            variant=cell.variant.id,
            scenario=cell.scenario.name,
            release=cell.release,
            duration_s=1.0,
            tool_duration_s=0.9,
        )
        if cell.scenario.name == "shell":
            results.append(CellResult(outcome="pass", warnings=("endpoint-not-ssm",), **base))
        else:
            results.append(
                CellResult(
                    outcome="fail",
                    reason=failed.code,
                    explanation=failed.explanation,
                    remedy=failed.remedy,
                    detail="6 ResumeSession call(s) at argv[6] 'http://127.0.0.1:5001'",
                    **base,
                )
            )
    return matrix.build(cells, results, started=1000.0, finished=1010.0, jobs=2, timeout=60)


def test_a_resume_failed_cell_renders_with_its_fix_and_settles_the_static_warning(
    tmp_path: Path,
) -> None:
    from compat.report import html  # noqa: PLC0415

    document = _reconnect_document()
    assert {c["column"].split("/")[0] for c in document["cells"]} == {"shell", "reconnect"}
    assert all(not c.get("warnings") for c in document["cells"])  # proven, not guessed
    text = markdown.render(document)
    assert "resume-failed" in text and markdown.prose(REASONS["resume-failed"].remedy) in text
    assert "endpoint-not-ssm" not in text
    page = html.render(document)
    assert "resume-failed" in page and "websocket dropped once" in page
    xml = JUnitXml.fromfile(str(junit.write(document, tmp_path / "junit.xml")))
    failures = [r for s in xml for c in s for r in c.result if isinstance(r, Failure)]
    assert [f.type for f in failures] == ["resume-failed"] * len(failures) and failures
    assert all(f"fix: {REASONS['resume-failed'].remedy}" in f.text for f in failures)
