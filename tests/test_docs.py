"""Every citation of ``docs/<page>.md §N`` in the repository names a section that exists.

The code, tests and adapters cite the facts they rely on by page and section (and by table row or
list item); a renumbered or removed section would leave them pointing at nothing. Facts must also
live in the repository: citations of notes outside it are refused.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: ``docs/plugin.md`` and what follows it up to the clause's end (``;``, ``)``, a quote).
_CITATION = re.compile(r"docs/([\w-]+)\.md`?([^;)\"`]*)")
#: Inside a docs page: ``[callers.md §1](callers.md)``.
_LOCAL_CITATION = re.compile(r"\[([\w-]+)\.md( §[^\]]*)\]")
_SECTION = re.compile(r"§(\d+(?:\.\d+)*)((?: rows? \d+(?:(?:-| and )\d+)?| items? \d+)?)")
_HEADING = re.compile(r"^#{2,4} (\d+(?:\.\d+)*)\.? ", re.MULTILINE)
#: A comment or docstring continued on the next line: joined before citations are read.
_CONTINUATION = re.compile(r"\n[ \t]*(?:#:?|\*|//)?[ \t]*")
#: Notes that are not in the repository (the research notes the docs pages were written from).
_OUTSIDE = re.compile(
    r"shared/(?:research|DESIGN|STYLE)"
    r"|(?<![\w/])(?:plugin-spec|callers\.md|ecosystem\.md|STYLE\.md|DESIGN\.md)"
)
_TEXT = {".py", ".md", ".toml", ".json", ".sh", ".yml", ".yaml", ".ini", ".cfg", ".txt", ""}


@dataclass(frozen=True)
class Section:
    """A numbered section of a docs page: its table rows and list items by number."""

    rows: frozenset[int]
    items: frozenset[int]


def _sections(page: Path) -> dict[str, Section]:
    text = page.read_text(encoding="utf-8")
    heads = list(_HEADING.finditer(text))
    found: dict[str, Section] = {}
    for i, head in enumerate(heads):
        number = head.group(1)
        # A section runs to the next heading of its level or above, so "§1" holds "§1.1".
        depth = number.count(".")
        end = next(
            (h.start() for h in heads[i + 1 :] if h.group(1).count(".") <= depth),
            len(text),
        )
        body = text[head.end() : end]
        rows = {int(n) for n in re.findall(r"^\| (\d+) \|", body, re.MULTILINE)}
        items = {int(n) for n in re.findall(r"^ {0,3}(\d+)\. ", body, re.MULTILINE)}
        found[number] = Section(frozenset(rows), frozenset(items))
    return found


def _tracked() -> list[Path]:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    names = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    paths = [
        ROOT / n
        for n in names
        # reports/ is written by runs (its texts change on the next run), not by hand; this
        # file holds wrong citations on purpose, as examples.
        if not n.startswith("reports/") and Path(n).suffix in _TEXT and (ROOT / n).is_file()
    ]
    return [p for p in paths if p != Path(__file__).resolve()]


def _numbers(claim: str) -> list[int]:
    first, *rest = re.findall(r"\d+", claim)
    if "-" in claim:
        return list(range(int(first), int(rest[0]) + 1))
    return [int(first), *map(int, rest)]


def _problems(where: str, page: str, tail: str, pages: dict[str, dict[str, Section]]) -> list[str]:
    if page not in pages:
        return [f"{where}: docs/{page}.md does not exist"]
    problems = []
    for number, suffix in _SECTION.findall(tail):
        section = pages[page].get(number)
        if section is None:
            problems.append(f"{where}: docs/{page}.md has no §{number}")
            continue
        claim = suffix.strip()
        if claim:
            have = section.rows if claim.startswith("row") else section.items
            missing = [n for n in _numbers(claim) if n not in have]
            if missing:
                problems.append(f"{where}: docs/{page}.md §{number} has no {claim}")
    return problems


def test_every_docs_citation_names_an_existing_section() -> None:
    pages = {p.stem: _sections(p) for p in DOCS.glob("*.md")}
    problems: list[str] = []
    cited = 0
    for path in _tracked():
        text = _CONTINUATION.sub(" ", path.read_text(encoding="utf-8", errors="replace"))
        where = str(path.relative_to(ROOT))
        found = [*_CITATION.finditer(text)]
        if path.parent == DOCS:
            found += _LOCAL_CITATION.finditer(text)
        for match in found:
            cited += 1
            problems += _problems(where, match.group(1), match.group(2), pages)
    assert not problems, "\n".join(sorted(set(problems)))
    assert cited > 100, f"only {cited} citations found: is the pattern still right?"


def test_no_file_cites_notes_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()[:90]}"
        for path in _tracked()
        if path.parent != DOCS
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if _OUTSIDE.search(line)
    ]
    assert not offenders, "cite docs/ or an upstream URL instead:\n" + "\n".join(offenders)


def test_the_checker_sees_a_missing_section_and_row() -> None:
    pages = {"plugin": _sections(DOCS / "plugin.md")}
    assert _problems("x", "plugin", " §1.1 row 17, §3.3-§3.7", pages) == []
    assert _problems("x", "plugin", " §9.9", pages) == ["x: docs/plugin.md has no §9.9"]
    assert _problems("x", "plugin", " §1.1 row 99", pages) == [
        "x: docs/plugin.md §1.1 has no row 99"
    ]
    assert _problems("x", "nosuch", " §1", pages) == ["x: docs/nosuch.md does not exist"]
