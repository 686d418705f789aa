"""index.html: self-contained and escaped, then loaded in headless Chromium and clicked."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from compat.adapter.load import load_adapters
from compat.plan.cells import plan
from compat.report import html, matrix
from compat.runner.result import CellResult
from compat.verdict.reasons import REASONS
from tests.compat.report.browser import Browser, find_chromium


def test_the_page_is_self_contained(document: dict[str, Any]) -> None:
    page = html.render(document)
    assert "<link" not in page and " src=" not in page and "@import" not in page
    external = set(re.findall(r'href="(https?://[^"]+)"', page))
    assert external == {r["homepage"] for r in document["rows"]}  # links out, never loads


def test_everything_from_the_matrix_is_escaped(document: dict[str, Any]) -> None:
    evil = '<img src=x onerror=alert(1)>"</script><!--'
    document["rows"][0].update(tool=evil, version=evil, source=evil, homepage="javascript:alert(1)")
    document["scenarios"][0].update(title=evil, why=evil)
    fail = next(c for c in document["cells"] if c["outcome"] == "fail")
    fail.update(detail=evil, remedy=evil)
    page = html.render(document)
    assert "<img" not in page and "</script><!--" not in page
    assert 'href="javascript:' not in page
    data = re.search(r'<script type="application/json" id="matrix-data">(.*?)</script>', page, re.S)
    assert data is not None and evil in json.loads(data.group(1))["strings"]


def test_rendering_is_deterministic(document: dict[str, Any]) -> None:
    assert html.render(document) == html.render(json.loads(json.dumps(document)))


CHROMIUM = find_chromium()


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)"
)
def test_the_page_in_headless_chromium(tmp_path: Path, document: dict[str, Any]) -> None:
    page = html.write(document, tmp_path / "index.html")
    assert CHROMIUM is not None
    with Browser(CHROMIUM, tmp_path / "profile") as browser:
        browser.viewport(1280, 900)
        browser.load(page)
        # The grid has one header per column and one row per tool variant, whatever is merged.
        assert browser.js("document.querySelectorAll('#matrix th.rel').length") == len(
            document["columns"]
        )
        assert browser.js("document.querySelectorAll('#matrix tbody tr').length") == len(
            document["rows"]
        )
        assert browser.js("document.querySelectorAll('#matrix td.c button').length") == len(
            document["cells"]
        )
        # Merged by default: identical releases fold (shell 1.2.234.0 = 1.2.497.0 here).
        visible = (
            "[...document.querySelectorAll('#matrix th.rel')].filter(e => e.offsetParent).length"
        )
        merged = browser.js(visible)
        assert merged < len(document["columns"])
        browser.screenshot(tmp_path / "matrix.png")
        # A failing cell shows its remedy when clicked.
        browser.click("#matrix tr[data-row='ecsta/3.2.1'] td.s-fail button")
        assert browser.js("document.getElementById('detail').open") is True
        text = browser.js("document.getElementById('detail').innerText")
        assert "ecsta 3.2.1 · kms · plugin 1.2.234.0" in text
        # The remedy reads as written, its code span shown as code (without the backticks).
        assert REASONS["legacy-argv"].remedy.replace("`", "") in text and "legacy-argv" in text
        assert (
            browser.js("document.querySelector('#detail dd.remedy').getBoundingClientRect().height")
            > 0
        )
        assert browser.js(
            "[...document.querySelectorAll('#detail a')].map(a => a.getAttribute('href'))"
        ) == [
            "evidence/ecsta__3.2.1__kms__1.2.234.0/plugin-record.jsonl",
            "evidence/ecsta__3.2.1__kms__1.2.234.0/agent.jsonl",
        ]
        browser.screenshot(tmp_path / "detail.png")
        browser.js("document.getElementById('detail').close()")
        # Hover names the reason.
        failing = "#matrix tr[data-row='ecsta/3.2.1'] td.s-fail button"
        assert (
            browser.js(f"document.querySelector({json.dumps(failing)}).title")
            == "fail: legacy-argv — click for details"
        )
        # Unmerging shows every column again.
        browser.click("#merge")
        assert browser.js(visible) == len(document["columns"])
        # Phone width, dark mode: the page does not overflow, only the table scrolls.
        browser.viewport(390, 844, dark=True, mobile=True)
        assert browser.js("document.documentElement.scrollWidth") <= 390
        assert browser.js("getComputedStyle(document.body).backgroundColor") == "rgb(13, 17, 23)"
        browser.screenshot(tmp_path / "phone-dark.png")
    for name in ("matrix.png", "detail.png", "phone-dark.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG"), name


#: Visible cell buttons that, scrolled into view, end up under something else (the sticky
#: tool column) instead of under the pointer.
COVERED = (
    "[...document.querySelectorAll('#matrix td.c button')].filter(b => b.offsetParent)"
    ".filter(b => { b.scrollIntoView({block: 'center', inline: 'center'});"
    " const r = b.getBoundingClientRect();"
    " return !b.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); })"
    ".length"
)


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)"
)
@pytest.mark.parametrize(("width", "height", "mobile"), [(800, 450, False), (390, 844, True)])
def test_cells_scrolled_into_view_are_not_under_the_tool_column(
    tmp_path: Path, width: int, height: int, mobile: bool
) -> None:
    """Keyboard focus or a tap after scrolling must reach the cell, not the sticky column,
    even on a narrow screen with the built-in tools' wide labels ("1.x (PyPI) · ecs-exec")."""
    page = html.write(_every_builtin_cell_passing(), tmp_path / "index.html")
    assert CHROMIUM is not None
    with Browser(CHROMIUM, tmp_path / "profile") as browser:
        browser.viewport(width, height, mobile=mobile)
        browser.load(page)
        assert browser.js(COVERED) == 0


def _every_builtin_cell_passing() -> dict[str, Any]:
    cells = plan(load_adapters())
    results = [
        CellResult(
            id=c.id, tool=c.adapter.name, variant=c.variant.id, scenario=c.scenario.name,
            release=c.release, duration_s=0.5, outcome="pass",
        )
        for c in cells
    ]  # fmt: skip
    return matrix.build(cells, results, started=0.0, finished=1.0, jobs=1, timeout=60)


UNSAFE_EVIDENCE = {
    "leading-space": " javascript:alert(1)",
    "tab-in-scheme": "java\tscript:alert(1)",
    "newline": "\njavascript:alert(1)",
    "unc": "\\\\host\\share\\x",
    "data": "data:text/html,<script>alert(1)</script>",
    "parent": "evidence/../../secret",
    "protocol-relative": "//evil.example/x",
}


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)"
)
@pytest.mark.parametrize("trust_flag", [False, True], ids=["as-rendered", "flag-forged"])
def test_crafted_evidence_paths_never_become_links(
    tmp_path: Path, document: dict[str, Any], trust_flag: bool
) -> None:
    """Issue 13 item 3: `" javascript:…"` passed the schema and the check, and page.js set
    ``a.href`` without looking at the flag. With the flag forged to "safe" in the page's data,
    page.js must still refuse them."""
    fail = next(c for c in document["cells"] if c["outcome"] == "fail")
    fail["evidence"] = dict(UNSAFE_EVIDENCE)
    fail["evidence"]["good"] = "evidence/x/plugin-record.jsonl"
    page = html.render(document)
    if trust_flag:
        assert page.count(",false]") == len(UNSAFE_EVIDENCE)
        page = page.replace(",false]", ",true]")
    path = tmp_path / "index.html"
    path.write_text(page, "utf-8")
    assert CHROMIUM is not None
    with Browser(CHROMIUM, tmp_path / "profile") as browser:
        browser.viewport(1280, 900)
        browser.load(path)
        browser.click(f"#matrix tr[data-row={json.dumps(fail['row'])}] td.s-fail button")
        links = browser.js(
            "[...document.querySelectorAll('#detail a')].map(a => a.getAttribute('href'))"
        )
        assert links == ["evidence/x/plugin-record.jsonl"]
        shown = browser.js("document.getElementById('detail').innerText")
        assert "leading-space" in shown and "unc" in shown  # shown as text, not dropped
