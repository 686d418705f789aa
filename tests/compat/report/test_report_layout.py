"""The page over the committed ``reports/matrix.json`` in Chromium: a phone and a desktop.

Synthetic matrices have short labels; the built-in tools' labels ("1.x (PyPI) · ssm-session",
"aws-ssm-juggle") are what once made the sticky tool column fill a phone's screen. So the
layout is measured from the DOM over the real report, and screenshots are saved for a person
to look at (their paths are printed; run with ``-s`` to see them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compat.report import html
from compat.report.html_text import prose
from compat.verdict.reasons import REASONS
from tests.compat.report.browser import Browser, find_chromium

REPORT = Path(__file__).resolve().parents[3] / "reports" / "matrix.json"
CHROMIUM = find_chromium()

#: Result cells whose whole box is inside the scroll box and right of the sticky tool column,
#: in the first body row that has cells (measured at the table's initial scroll position).
VISIBLE_CELLS = """(() => {
  const box = document.querySelector('.scroll').getBoundingClientRect();
  const tool = document.querySelector('#matrix th.rowh').getBoundingClientRect();
  const row = [...document.querySelectorAll('#matrix tbody tr')].find(r => !r.hidden);
  return [...row.querySelectorAll('td.c')].filter(td => td.offsetParent).filter(td => {
    const r = td.getBoundingClientRect();
    return r.left >= tool.right - 1 && r.right <= box.right + 1;
  }).length;
})()"""

GEOMETRY = """(() => {
  const box = document.querySelector('.scroll').getBoundingClientRect();
  const corner = document.querySelector('#matrix th.corner').getBoundingClientRect();
  const tool = document.querySelector('#matrix th.rowh').getBoundingClientRect();
  const answer = document.getElementById('answer').getBoundingClientRect();
  return {box: box.width, tool: tool.width, corner: corner.height, answer: answer.top,
          page: document.documentElement.scrollWidth};
})()"""


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    if not REPORT.is_file():
        pytest.skip(f"{REPORT} is not in this checkout")
    document: dict[str, Any] = json.loads(REPORT.read_text("utf-8"))
    return document


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)"
)
@pytest.mark.parametrize(("width", "height", "mobile"), [(390, 844, True), (1400, 900, False)])
def test_the_committed_report_on_a_phone_and_a_desktop(
    tmp_path: Path, committed: dict[str, Any], width: int, height: int, mobile: bool
) -> None:
    page = html.write(committed, tmp_path / "index.html")
    assert CHROMIUM is not None
    with Browser(CHROMIUM, tmp_path / "profile") as browser:
        browser.viewport(width, height, mobile=mobile)
        browser.load(page)
        geometry = browser.js(GEOMETRY)
        shots = [browser.screenshot(tmp_path / f"top-{width}.png")]
        browser.js("document.querySelector('.scroll').scrollIntoView({block: 'start'})")
        shots.append(browser.screenshot(tmp_path / f"grid-{width}.png"))
        shots.append(browser.screenshot(tmp_path / f"page-{width}.png", full=True))
        print(f"\nscreenshots at {width} px:", *map(str, shots))
        print(f"geometry at {width} px: {geometry}")
        # The page itself never scrolls sideways; only the grid does.
        assert geometry["page"] <= width
        # At least three result cells beside the tool column, in both the merged and full view.
        assert browser.js(VISIBLE_CELLS) >= 3
        browser.click("#merge")
        assert browser.js(VISIBLE_CELLS) >= 3
        browser.click("#merge")
        # The tool column takes at most a third of the grid's box on a phone, and the blank
        # corner above it is not a tall empty box.
        if mobile:
            assert geometry["tool"] <= geometry["box"] / 3
            assert geometry["corner"] <= 160
        # The KMS answer is on the first screen.
        assert geometry["answer"] < height / 2


#: Fix texts with code spans the page's script and html_text.py must read alike (GFM §6.1).
TRICKY_FIXES = [
    REASONS["legacy-argv"].remedy,
    "run `<img src=x onerror=alert(1)>` then <b>`` a`b ``</b> \\`no` & ``` x ``` `open",
    "`  ` and ` a ` and `` ` `` and a `_b_` & c",
]


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)"
)
def test_the_cell_dialog_shows_code_as_code_like_the_findings(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    """page.js splits fix texts into code spans itself (it builds the dialog with textContent):
    for each text, the dialog's markup must equal what html.py puts in the findings."""
    fail = next(c for c in document["cells"] if c["outcome"] == "fail")
    assert CHROMIUM is not None
    with Browser(CHROMIUM, tmp_path / "profile") as browser:
        browser.viewport(1280, 900)
        for number, remedy in enumerate(TRICKY_FIXES):
            fail["remedy"] = remedy
            page = html.write(document, tmp_path / f"index-{number}.html")
            browser.load(page)
            browser.click(f"#matrix tr[data-row={json.dumps(fail['row'])}] td.s-fail button")
            shown = browser.js("document.querySelector('#detail dd.remedy').innerHTML")
            # innerHTML leaves quotes as they are; html.py escapes them (for attributes too).
            expected = prose(remedy).replace("&quot;", '"').replace("&#x27;", "'")
            assert shown == expected, remedy
            assert browser.js("document.querySelectorAll('#detail dd.remedy img').length") == 0
        browser.load(tmp_path / "index-0.html")
        browser.click(f"#matrix tr[data-row={json.dumps(fail['row'])}] td.s-fail button")
        codes = browser.js(
            "[...document.querySelectorAll('#detail dd.remedy code')].map(c => c.textContent)"
        )
        assert codes == ["aws ecs execute-command"]
        assert "`" not in browser.js("document.getElementById('detail').innerText")
