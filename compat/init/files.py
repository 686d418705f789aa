"""The files ``smp-compat init`` writes, and the rule that it only ever rewrites its own.

Each file (or, in ``tox.ini``, the ``[testenv:compat]`` section) carries a marker line with
the sha256 of what init wrote. Init rewrites it only while that hash still matches, so a
change by the user, or a file init never wrote, is left alone and reported. ``tox.ini`` is
edited as text: ``configparser`` would drop the user's comments and reorder nothing less.

Everything the kit adds to a repository lives under :data:`HOME` (``smp-compat/``): the adapter
and the reports. A top-level ``adapters/`` or ``reports/`` is a package to setuptools' automatic
discovery in a flat layout ("Multiple top-level packages discovered in a flat-layout"), so the
tool would no longer build; ``smp-compat`` is not a Python identifier, so no build backend
takes it for a package, and Go ignores a directory without ``.go`` files. It is not a
dot-directory because the reusable workflow checks the kit out at ``.smp-compat``.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from compat.errors import UserError
from compat.init.detect import Tool

__all__ = [
    "Change",
    "adapter_toml",
    "check_inside",
    "remove_owned",
    "tool_command",
    "tox_section",
    "workflow",
    "write_owned",
    "write_tox",
]

SECTION = "testenv:compat"
#: The one directory the kit writes in a tool's repository (see the module docstring).
HOME = "smp-compat"
#: Where ``tox -e compat`` and the workflow write the reports, relative to the repository.
REPORTS = f"{HOME}/reports"
#: Placeholders that are unset in some scenarios: they must sit in an optional group.
_MAYBE_UNSET = ("{profile}", "{user_region}")
_MARK = re.compile(r"smp-compat init \(sha256:([0-9a-f]{16})\)")
_HEADER = re.compile(r"^\[([^\]]+)\]\s*$")
#: The kit's repository (pyproject's ``Homepage``).
REPOSITORY = "https://github.com/smp-compat/smp-compat"
DOCS = f"{REPOSITORY}/blob/main/adapters/README.md"
#: What tox installs the kit from unless ``SMP_COMPAT_SPEC`` says otherwise: the kit is not on
#: PyPI, so a bare ``smp-compat`` would find nothing (README, "The `smp-compat` command").
KIT_SPEC = f"smp-compat @ git+{REPOSITORY}"

Status = Literal["wrote", "updated", "unchanged", "kept", "removed"]


@dataclass(frozen=True)
class Change:
    """What happened to one file (``kept``: not ours or changed by the user; ``why`` says)."""

    path: Path
    what: str
    status: Status
    why: str = ""


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def _marked(comment: str, body: str) -> str:
    """``body`` under a marker line holding its hash."""
    note = "edit freely: init then leaves it alone"
    return f"{comment} Written by smp-compat init (sha256:{_digest(body)}); {note}\n{body}"


def _ours(text: str) -> bool | None:
    """``True``: init's, unchanged; ``False``: init's, changed since; ``None``: not init's."""
    first, _, rest = text.partition("\n")
    found = _MARK.search(first)
    if found is None:
        return None
    return found[1] == _digest(rest)


# --- the contents ----------------------------------------------------------------------


def tool_command(text: str) -> list[str | list[str]]:
    """``--tool-cmd`` as an adapter ``command``: a flag followed by ``{profile}`` or
    ``{user_region}`` becomes an optional group, passed only when the user chose one."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise UserError(f"--tool-cmd {text!r}: {exc}") from None
    if not words:
        raise UserError("--tool-cmd is empty")
    command: list[str | list[str]] = []
    i = 0
    while i < len(words):
        word = words[i]
        following = words[i + 1] if i + 1 < len(words) else ""
        if word.startswith("-") and any(p in following for p in _MAYBE_UNSET):
            command.append([word, following])
            i += 2
            continue
        command.append([word] if any(p in word for p in _MAYBE_UNSET) else word)
        i += 1
    return command


#: A Go module path element (golang.org/x/mod/module ``CheckPath``): no tox substitution
#: (``{/}``, ``{env:…}``), no space, no leading or trailing dot (``..`` would build outside).
_GO_ELEMENT = re.compile(r"[A-Za-z0-9_~-]([A-Za-z0-9._~-]*[A-Za-z0-9_~-])?")


def _go_program(tool: Tool) -> str:
    """The program name, checked before it goes into ``tox.ini``'s ``go build -o`` line."""
    main_parts = tool.main_package.split("/")
    if (
        not _GO_ELEMENT.fullmatch(tool.program)
        or main_parts[0] != "."
        or not all(_GO_ELEMENT.fullmatch(part) for part in main_parts[1:])
    ):
        raise UserError(
            f"{tool.found_in or 'go.mod'}: {tool.program!r} is not a Go module path element "
            "(letters, digits, . _ ~ -, no leading or trailing dot); fix go.mod's module line"
        )
    return tool.program


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def adapter_toml(tool: Tool, command: list[str | list[str]], kind: str) -> str:
    """The adapter skeleton, marked; ``command`` from :func:`tool_command`."""
    items = [
        "[" + ", ".join(_toml_string(w) for w in item) + "]"
        if isinstance(item, list)
        else _toml_string(item)
        for item in command
    ]
    program = _go_program(tool) if tool.language == "go" else tool.program
    requires = [f"requires.binary = {_toml_string(program)}"]
    if tool.language == "go":
        env = "SMP_COMPAT_" + re.sub(r"[^A-Z0-9]", "_", tool.name.upper())
        requires.append(f'requires.path_env = "{env}"  # tox.ini builds it there')
    body = "\n".join(
        [
            f"# How smp-compat drives {tool.name}; the format: {DOCS}",
            f"name = {_toml_string(tool.name)}",
            f"homepage = {_toml_string(tool.homepage)}",
            f'kind = "{kind}"',
            "",
            "[[variant]]",
            'version = "dev"  # the checkout under test',
            'mode = "run"',
            *requires,
            "# {cluster} {task_id} {container} {command} … are filled per scenario; a nested",
            "# array is passed only when its placeholder is set (the user chose a profile).",
            "command = [" + ", ".join(items) + "]",
            "",
        ]
    )
    return _marked("#", body)


def tox_section(tool: Tool, adapter: str) -> str:
    """The ``[testenv:compat]`` section (header included), marked."""
    lines = [
        f"description = does {tool.name} launch session-manager-plugin right? (smp-compat)",
        "# SMP_COMPAT_SPEC: where to install the kit from (a path, a git URL, a version).",
        f"deps = {{env:SMP_COMPAT_SPEC:{KIT_SPEC}}}",
        "pass_env =",
        "    SMP_COMPAT_*",
        "    HOME",
        "    XDG_CACHE_HOME",
        "    GITHUB_STEP_SUMMARY",
        "    CI",
    ]
    if tool.language == "go":
        program = _go_program(tool)
        env = "SMP_COMPAT_" + re.sub(r"[^A-Z0-9]", "_", tool.name.upper())
        lines += [
            "skip_install = true",
            "allowlist_externals = go",
            "set_env =",
            f"    {env} = {{envtmpdir}}{{/}}{program}",
            "commands_pre =",
            f"    go build -o {{envtmpdir}}{{/}}{program} {tool.main_package}",
        ]
    lines += [
        "commands =",
        f"    smp-compat run --adapters {{toxinidir}}{{/}}{adapter} --adapter {tool.name} "
        f"--out {{toxinidir}}{{/}}{REPORTS.replace('/', '{/}')} {{posargs}}",
    ]
    return f"[{SECTION}]\n" + _marked("#", "\n".join(lines) + "\n")


def workflow(tool: Tool, adapter: str) -> str:
    """``.github/workflows/smp-compat.yml``: the reusable workflow ("Reports and CI"), marked."""
    body = f"""\
# Runs smp-compat on every pull request and push ("Reports and CI" in the README of smp-compat).
name: smp-compat
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: write        # only for badges-branch; `read` otherwise
  pull-requests: write   # the sticky comment
jobs:
  compat:
    uses: smp-compat/smp-compat/.github/workflows/compat.yml@main
    with:
      adapters: {adapter}
      args: --adapter {tool.name}
      out: {REPORTS}
      baseline: {REPORTS}/matrix.json
      badges-branch: smp-compat-badges
"""
    return _marked("#", body)


# --- writing -----------------------------------------------------------------------------


def check_inside(root: Path, paths: list[Path]) -> None:
    """Refuse, before anything is written, a target that a symlink already in the repository
    (the file itself or a directory on its way) leads out of it: init would write there."""
    top = root.resolve()
    for path in paths:
        real = path.resolve()
        if not real.is_relative_to(top):
            shown = path.relative_to(root) if path.is_relative_to(root) else path
            raise UserError(
                f"{shown} leads out of the repository (to {real}) through a symlink; "
                "init writes nothing there: remove the symlink"
            )


def write_owned(path: Path, text: str, what: str) -> Change:
    """Write a whole file unless it exists and is not init's unchanged output."""
    if path.exists():
        current = path.read_text(encoding="utf-8")
        if current == text:
            return Change(path, what, "unchanged")
        ours = _ours(current)
        if ours is None:
            return Change(path, what, "kept", "exists and was not written by smp-compat init")
        if not ours:
            return Change(path, what, "kept", "changed since smp-compat init wrote it")
        path.write_text(text, encoding="utf-8")
        return Change(path, what, "updated")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return Change(path, what, "wrote")


def remove_owned(path: Path, what: str, instead: str) -> Change | None:
    """Remove a file init wrote earlier and no longer uses (``instead`` replaces it), while it
    is init's unchanged output; a changed one is kept and named. ``None``: nothing there."""
    if not path.is_file():
        return None
    ours = _ours(path.read_text(encoding="utf-8"))
    if ours is None:
        return None
    if not ours:
        why = f"changed since smp-compat init wrote it; init now uses {instead}: move it there"
        return Change(path, what, "kept", why)
    path.unlink()
    if not any(path.parent.iterdir()):
        path.parent.rmdir()
    return Change(path, what, "removed", f"init now uses {instead}")


def _section_span(lines: list[str], name: str) -> tuple[int, int] | None:
    """``[start, end)`` of section ``name``: its header to the next header (trailing blank
    lines and comments before the next header stay outside, with that header)."""
    start = None
    for i, line in enumerate(lines):
        found = _HEADER.match(line)
        if found and start is None and found[1].strip() == name:
            start = i
        elif found and start is not None:
            end = i
            while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1][0] in "#;"):
                end -= 1
            return start, end
    if start is None:
        return None
    end = len(lines)
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return start, end


def write_tox(path: Path, section: str) -> Change:
    """Add or refresh ``[testenv:compat]`` in ``tox.ini``, touching no other line."""
    what = f"[{SECTION}]"
    if not path.exists():
        path.write_text(f"[tox]\nrequires = tox>=4\n\n{section}", encoding="utf-8")
        return Change(path, what, "wrote")
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    span = _section_span(lines, SECTION)
    if span is None:
        sep = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        path.write_text(text + sep + section, encoding="utf-8")
        return Change(path, what, "wrote")
    start, end = span
    current = "".join(lines[start:end])
    if current.rstrip("\n") == section.rstrip("\n"):
        return Change(path, what, "unchanged")
    ours = _ours("".join(lines[start + 1 : end]).rstrip("\n") + "\n")
    if ours is None:
        return Change(path, what, "kept", "tox.ini already has one, not written by init")
    if not ours:
        return Change(path, what, "kept", "changed since smp-compat init wrote it")
    path.write_text("".join(lines[:start]) + section + "".join(lines[end:]), encoding="utf-8")
    return Change(path, what, "updated")
