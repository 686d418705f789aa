"""The KMS answer first, failures before warnings, reasons in the cells, code rendered as code.

Markdown is read through GitHub's own parser (cmark-gfm); the page's markup is read as HTML.
"""

from __future__ import annotations

import copy
import re
from html import unescape
from pathlib import Path
from typing import Any

from compat.report import html, markdown, summary
from compat.report.headline import kms_answer
from compat.report.model import Matrix
from compat.verdict.reasons import REASONS
from tests.compat.report import gfm
from tests.compat.report.conftest import flipped


def _label(row: dict[str, Any]) -> str:
    return f"{row['tool']} {row['version']}"


def test_the_kms_answer_heads_matrix_md_as_github_renders_it(built: dict[str, Any]) -> None:
    """``built`` was made so that kms fails with legacy-argv for 1.5.9 and 1.33.2 and nothing
    installed was tried: the sentence must say exactly that."""
    failing = sorted(_label(r) for r in built["rows"] if r["variant"] in ("1.5.9", "1.33.2"))
    untried = [r for r in built["rows"] if r["variant"] == "installed"]
    # A replay and its run twin are one tool version, counted once.
    tried = len({_label(r) for r in built["rows"]} - {_label(r) for r in untried})
    assert tried < len(built["rows"]) - len(untried)  # the fixture has twins
    rendered = gfm.render(markdown.render(built))
    first = re.search(r"</h1>\s*<p>(.*?)</p>", rendered, re.S)
    assert first is not None
    words = "version works" if tried - 2 == 1 else "versions work"
    assert first.group(1).startswith(
        f"<strong>KMS-encrypted sessions: {tried - 2} of {tried} tool {words}</strong>"
    )
    text = gfm.text(first.group(1))
    for label in failing:
        assert f"{label} (legacy-argv)" in text
    assert text.index(failing[0]) < text.index("not tried:")
    assert all(_label(r) in text.split("not tried:")[1] for r in untried)
    assert first.group(1).count("<code>legacy-argv</code>") == 2
    assert "works when every KMS scenario cell" in gfm.text(rendered)  # the rule is stated


def test_the_step_summary_starts_with_the_answer_too(tmp_path: Path, built: dict[str, Any]) -> None:
    path = tmp_path / "summary.md"
    summary.append(markdown.render(built, level=2), path)
    lines = path.read_text("utf-8").splitlines()
    assert lines[0].startswith("## ") and lines[2].startswith("**KMS-encrypted sessions")


def test_a_cell_without_a_verdict_never_makes_a_version_work(document: dict[str, Any]) -> None:
    before = kms_answer(Matrix(document))
    assert before is not None and before.works
    row = before.works[0].row
    index = next(
        i
        for i, c in enumerate(document["cells"])
        if c["row"] == row and c["scenario"] == "kms-region"
    )
    after = kms_answer(Matrix(flipped(document, index, "error")))
    assert after is not None
    assert [v.row for v in after.unjudged] == [row]
    assert len(after.works) == len(before.works) - 1 and after.tried == before.tried
    page = html.render(flipped(document, index, "error"))
    answer = re.search(r'<p class="answer[^"]*" id="answer">(.*?)</p>', page, re.S)
    assert answer is not None and "no verdict for: " in answer.group(1)
    assert "<code>target-mismatch</code> in kms-region" in answer.group(1)


def test_a_matrix_without_kms_scenarios_makes_no_claim(document: dict[str, Any]) -> None:
    shell = copy.deepcopy(document)
    shell["columns"] = [c for c in shell["columns"] if c["scenario"] == "shell"]
    shell["cells"] = [c for c in shell["cells"] if c["scenario"] == "shell"]
    assert kms_answer(Matrix(shell)) is None
    assert "KMS-encrypted sessions" not in markdown.render(shell)
    assert 'id="answer"' not in html.render(shell)


def _finding_codes(page: str) -> list[tuple[str, str]]:
    section = page.split('<h2 id="findings">', 1)[1].split('<h2 id="scenarios">', 1)[0]
    return re.findall(
        r'<li><span class="sym s-(\w+)"[^>]*>[^<]*</span> <code>([^<]+)</code>', section
    )


def test_failures_come_before_warnings_on_the_page(document: dict[str, Any]) -> None:
    """Issue 14: the page listed the endpoint-not-ssm warning before legacy-argv, which breaks
    KMS. Here warnings hit more cells than any failure, and still come last."""
    found = _finding_codes(html.render(document))
    statuses = [s for s, _ in found]
    assert statuses == sorted(statuses, key=["fail", "error", "warn"].index)
    assert {"fail", "error", "warn"} <= set(statuses)
    counts = {code: 0 for _, code in found}
    for cell in document["cells"]:
        for code in [cell.get("reason"), *(cell.get("warnings") or ())]:
            if code in counts and (code != cell.get("reason") or cell["outcome"] != "pass"):
                counts[code] += 1
    warnings = [code for status, code in found if status == "warn"]
    assert max(counts[c] for c in warnings) > min(counts[c] for s, c in found if s == "fail")


def test_failures_come_before_no_verdict_in_matrix_md(document: dict[str, Any]) -> None:
    text = markdown.render(document)
    section = text.split("# What fails, and how to fix it", 1)[1].split("# Warnings", 1)[0]
    marks = [line[2] for line in section.splitlines() if line.startswith("- ")]
    assert marks == sorted(marks, key=["❌", "💥"].index) and "💥" in marks
    assert text.index("# What fails") < text.index("# Warnings")


def test_cells_name_their_failure_and_a_warned_pass_reads_as_a_pass(
    document: dict[str, Any],
) -> None:
    page = html.render(document)
    cells = re.findall(r'<td class="c s-(\w+)[^"]*"><button [^>]*>(.*?)</button></td>', page)
    assert len(cells) == len(document["cells"])
    failures = [c for c in document["cells"] if c["outcome"] in ("fail", "error")]
    shown = [body for status, body in cells if status in ("fail", "error")]
    assert sorted(re.sub(r"<[^>]+>", " ", b).split()[1] for b in shown) == sorted(
        str(c["reason"]) for c in failures
    )
    warned = [body for status, body in cells if status == "warn"]
    assert warned and set(warned) == {"✓"}  # the marker is drawn by the stylesheet


def test_merged_labels_say_what_merging_means_and_nothing_pretends_to_sort(
    document: dict[str, Any],
) -> None:
    page = html.render(document)
    merged = re.findall(r'<span class="merged">(.*?)</span>', page)
    assert merged and all("same results" in m and " = " not in m for m in merged)
    assert "↓" not in page and "↑" not in page
    assert '<th class="corner pctlabel" scope="row"' in page


def test_fix_texts_show_their_code_as_code_on_the_page(document: dict[str, Any]) -> None:
    page = html.render(document)
    findings = page.split('<h2 id="findings">', 1)[1].split('<h2 id="scenarios">', 1)[0]
    assert "`" not in unescape(re.sub(r"<[^>]+>", "", findings))
    assert "<code>aws ecs execute-command</code>" in findings
    assert REASONS["legacy-argv"].remedy.count("`") == 2  # the text still marks it


def test_code_in_fix_texts_is_escaped_like_the_rest(document: dict[str, Any]) -> None:
    fail = next(c for c in document["cells"] if c["outcome"] == "fail")
    everywhere = [c for c in document["cells"] if c.get("reason") == fail["reason"]]
    for cell in everywhere:
        cell["remedy"] = "run `<img src=x onerror=alert(1)>` then <b>`` a`b ``</b> \\`no`"
    page = html.render(document)
    findings = page.split('<h2 id="findings">', 1)[1]
    assert "<img" not in findings and "<b>" not in findings
    assert (
        "Fix: run <code>&lt;img src=x onerror=alert(1)&gt;</code> then "
        "&lt;b&gt;<code>a`b</code>&lt;/b&gt; \\`no`</span>" in page
    )


def test_a_replay_and_its_skipped_run_twin_are_one_version(built: dict[str, Any]) -> None:
    """aws-gate 0.4.3 was listed as failing (its replay) and not tried (its run twin, not
    installed): a tool version is counted once, from the cells that were judged."""
    document = copy.deepcopy(built)
    modes: dict[tuple[str, str], set[str]] = {}
    for row in document["rows"]:
        modes.setdefault((row["tool"], row["version"]), set()).add(row["mode"])
    tool, version = next(k for k, v in modes.items() if v == {"run", "replay"})
    twins = {
        r["id"]: r["mode"] for r in document["rows"] if (r["tool"], r["version"]) == (tool, version)
    }
    for cell in document["cells"]:
        if twins.get(cell["row"]) == "run":
            cell.update(outcome="skipped", reason="requirement-missing", warnings=[])
        elif twins.get(cell["row"]) == "replay" and cell["scenario"] == "kms":
            cell.update(outcome="fail", reason="legacy-argv", warnings=[])
    answer = kms_answer(Matrix(document))
    assert answer is not None
    label = f"{tool} {version}"
    assert [v.label for v in answer.fails].count(label) == 1
    assert label not in [v.label for v in answer.untried + answer.works + answer.unjudged]
    sentence = gfm.text(gfm.render(markdown.render(document)))
    assert sentence.count(f"{label} (legacy-argv)") == 1
    # Every cell of both twins skipped: the version is not tried, once.
    for cell in document["cells"]:
        if cell["row"] in twins:
            cell.update(outcome="skipped", reason="requirement-missing", warnings=[])
    answer = kms_answer(Matrix(document))
    assert answer is not None and [v.label for v in answer.untried].count(label) == 1
