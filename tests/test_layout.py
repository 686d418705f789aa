"""README's "What is here" tree names every module of the kit, and nothing that is gone.

The tree is how a new maintainer finds the room a change belongs in; a module added without a
line there, or a line left behind by a move, would send them to the wrong place.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("fake_plugin", "compat")


def _tree() -> set[str]:
    """Paths named by the tree: each line's name joined to the directories above it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## What is here\n", 1)[1]
    block = re.search(r"```text\n(.*?)```", section, re.DOTALL)
    assert block, "README's 'What is here' has no ```text tree"
    named: set[str] = set()
    stack: list[str] = []
    for line in block.group(1).splitlines():
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name = line.split()[0]
        stack[depth:] = [name.rstrip("/")]
        named.add("/".join(stack))
    return named


def _modules() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if path.name == "__main__.py":
                continue
            found.add(str(rel.parent) if path.name == "__init__.py" else str(rel))
    return found


def test_every_module_has_a_line() -> None:
    assert sorted(_modules() - _tree()) == []


def test_every_line_names_something_that_exists() -> None:
    assert sorted(p for p in _tree() if not (ROOT / p).exists()) == []
