"""Attacks on the Markdown, XML and link escaping, each rendered as GitHub or a parser would.

Every string in matrix.json can be written by an outsider (a pull request commits it, a tool's
stderr lands in it). Each character class gets a test through cmark-gfm, GitHub's own parser:
the reader sees exactly the text, and no markup, row break, mention or link appears.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from compat.report import diff, junit, markdown
from compat.report.escape import clean, code, inline, prose, safe_link, xml_text
from compat.verdict.reasons import REASONS
from tests.compat.report import gfm
from tests.compat.report.conftest import flipped

ATTACKS = {
    "line-breaks": "1.0\r<!--\nhidden\r\n| x | y |",
    "pipe": "1.0|2.0 | three",
    "html": '<img src=x onerror=alert(1)><script>alert(1)</script><a href="javascript:x">y</a>',
    "comment": "1.0<!-- everything after this row disappears",
    "backticks": "`<b>code</b>` ``<i>x</i>`` \\`<u>u</u>\\`",
    "mention": "@octocat @github/security-team cc:@admin",
    "emphasis": "_a_ *b* __c__ **d** a_b_c ~~s~~",
    "links": "[x](javascript:alert(1)) ![i](https://x/i.png) <https://x> www.example.com "
    "https://example.com a@b.example",
    "backslash": "C:\\Users\\x \\\\host\\share \\<b>x\\</b> \\|",
    "entities": "&lt;b&gt; &amp; &#60;i&#62; &copy;",
    "math": "$x$ $$y$$",
    "ansi": "\x1b[31mred\x1b[0m \x1b]8;;https://x\x07link\x1b]8;;\x07 \x00nul\x7f",
    "unicode-breaks": "a\u2028b\u2029c\x85d",
}


def _cell_text(markdown_text: str) -> list[str]:
    """The text of each body cell of the first table."""
    html = gfm.render(markdown_text)
    body = html.split("<tbody>", 1)[1]
    return [gfm.text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_inline_text_renders_as_exactly_that_text(attack: str) -> None:
    html = gfm.render(f"before {inline(attack)} after")
    assert gfm.tags(html) == {"p", "/p"}, html
    assert gfm.text(html).strip() == f"before {clean(attack)} after".replace("@", "@\u200b")
    assert not gfm.MENTION.search(gfm.text(html))


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_a_version_label_stays_in_its_table_cell(document: dict[str, Any], attack: str) -> None:
    row = document["rows"][0]
    row["version"] = attack
    html = gfm.render(markdown.render(document))
    allowed = {"h1", "h2", "p", "table", "thead", "tbody", "tr", "th", "td", "strong", "em",
               "code", "ul", "li"}  # fmt: skip
    assert {t.lstrip("/") for t in gfm.tags(html)} <= allowed, gfm.tags(html)
    # The table still has one row per variant plus the pass-rate row, and the label reads whole.
    table = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert table.count("<tr>") == len(document["rows"]) + 1
    cells = _cell_text(markdown.render(document))
    assert cells[1] == clean(attack).replace("@", "@\u200b").strip()
    assert not gfm.MENTION.search(gfm.text(html))


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_tool_stderr_and_ids_in_the_findings_are_inert(
    document: dict[str, Any], attack: str
) -> None:
    fail = next(c for c in document["cells"] if c["outcome"] == "fail")
    fail.update(detail=attack, explanation=attack, remedy=attack)
    html = gfm.render(markdown.render(document))
    assert "<em>" not in html.split("What fails", 1)[1].split("Warnings", 1)[0] or "_a_" not in (
        attack
    )
    assert not ({t.lstrip("/") for t in gfm.tags(html)} - {
        "h1", "h2", "p", "table", "thead", "tbody", "tr", "th", "td", "strong", "em", "code",
        "ul", "li",
    })  # fmt: skip
    assert not gfm.MENTION.search(gfm.text(html))
    assert clean(attack).replace("@", "@\u200b").strip() in gfm.text(html).replace("\n", " ")


def test_backslash_escaped_backticks_open_no_code_span() -> None:
    attack = "\\`<img src=x onerror=alert(1)>\\`"
    html = gfm.render(prose(attack))
    assert "<img" not in html and "<code>" not in html
    assert gfm.text(html).strip() == attack


def test_the_kits_fix_texts_keep_their_underscores_on_github() -> None:
    """Issue 14 item 7: ``ecs:<cluster>_<taskId>_<runtimeId>`` rendered with <em>."""
    for reason in REASONS.values():
        for text in (reason.explanation, reason.remedy):
            html = gfm.render(prose(text))
            assert "<em>" not in html and "<strong>" not in html, text
            assert "<a " not in html, text
            shown = gfm.text(html).strip()
            assert shown == clean(text).replace("`", "").replace("@", "@\u200b"), text


def test_code_spans_of_the_kits_texts_stay_code() -> None:
    html = gfm.render(prose("Run `aws ecs execute-command` then `a|b`"))
    assert html.count("<code>") == 2 and "<code>aws ecs execute-command</code>" in html
    row = f"| a |\n|---|\n| {prose('use `a|b` here', cell=True)} |"
    assert "<code>a|b</code>" in gfm.render(row)


def test_an_identifier_is_code_only_when_it_cannot_close_its_span() -> None:
    assert code("legacy-argv") == "`legacy-argv`"
    assert "<code>" not in gfm.render(code("x` <b>y</b> `"))
    assert "<b>" not in gfm.render(code("x` <b>y</b> `"))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_renders_as_itself(text: str) -> None:
    html = gfm.render(f"x {inline(text)} x")
    assert gfm.tags(html) <= {"p", "/p"}, html
    shown = gfm.text(html).strip()
    expected = f"x {clean(text)} x".replace("@", "@\u200b").strip()
    # cmark drops U+0000 and turns other invalid code points into U+FFFD; whitespace runs stay.
    assert shown.replace("\ufffd", "") == expected.replace("\ufffd", ""), (text, html)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("`\\<>a_|*[]!@ \n"), max_size=40))
@example("    <")  # four spaces opened an indented code block (found by this test)
def test_no_prose_lets_markup_through(text: str) -> None:
    html = gfm.render(prose(text))
    assert gfm.tags(html) <= {"p", "/p", "code", "/code"}, (text, html)
    assert not gfm.MENTION.search(gfm.text_outside_code(html)), (text, html)


def test_the_diff_comment_escapes_ids_and_finds_its_marker(document: dict[str, Any]) -> None:
    index = next(i for i, c in enumerate(document["cells"]) if c["outcome"] == "pass")
    head = flipped(document, index)
    head["cells"][index]["remedy"] = "fix <b>it</b> @octocat | now\r\n<!--"
    text = diff.render(diff.compare(document, head))
    html = gfm.render(text)
    assert "<b>" not in html and not gfm.MENTION.search(gfm.text(html))
    assert html.count("<!--") == 1  # the marker only
    with pytest.raises(ValueError, match="marker"):
        diff.render(diff.compare(document, head), marker="x --> <b>")


# -- JUnit --------------------------------------------------------------------------------


def test_junit_is_well_formed_when_a_tool_prints_ansi_colours(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    fail = next(c for c in document["cells"] if c["outcome"] == "fail")
    fail["detail"] = "\x1b[31mError:\x1b[0m bad \x00\x08\x0b\x0c\ufffe argv"
    fail["explanation"] = "\x1b[1mbold\x1b[0m"
    document["rows"][0]["source"] = "src\x1b[0m"
    path = junit.write(document, tmp_path / "junit.xml")
    root = ET.parse(path).getroot()  # raises on a control character
    failure = next(f for f in root.iter("failure") if "bad" in (f.text or ""))
    assert "seen: Error: bad  argv" in (failure.text or "")
    assert "\x1b" not in path.read_text("utf-8")


def test_xml_text_keeps_line_breaks_and_tabs() -> None:
    assert xml_text("a\tb\nc\r\x1b[2Kd\x01") == "a\tb\nc\rd"


# -- Links --------------------------------------------------------------------------------

UNSAFE_LINKS = [
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "\njavascript:alert(1)",
    "\x01javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "\\\\host\\share\\x",
    "\\/evil.example/x",
    "/etc/passwd",
    "//evil.example/x",
    "evidence/../../x",
    "..",
    "evidence/x ",
    "",
]


@pytest.mark.parametrize("path", UNSAFE_LINKS, ids=repr)
def test_unsafe_evidence_paths_are_never_links(path: str) -> None:
    assert not safe_link(path)


@pytest.mark.parametrize("path", ["evidence/a__b/plugin-record.jsonl", "x.txt", "a/b c/d..e"])
def test_relative_evidence_paths_are_links(path: str) -> None:
    assert safe_link(path)
