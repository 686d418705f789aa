"""What tool lives in a repository: a Go module (``go.mod``) or a Python package."""

from __future__ import annotations

import configparser
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from compat.errors import UserError

__all__ = ["Tool", "adapter_name", "detect"]

Language = Literal["go", "python", "other"]
_GO_MODULE = re.compile(r"^module\s+(\S+)", re.M)
_INVALID = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True)
class Tool:
    """The tool found: its adapter name, the program a user types, where it lives."""

    name: str
    program: str
    language: Language
    homepage: str
    #: Go: the package to ``go build`` (``.`` or ``./cmd/<name>``).
    main_package: str = "."
    #: What the detection read, for the report (``go.mod module github.com/me/x``).
    found_in: str = ""


def adapter_name(text: str) -> str:
    """A valid adapter name (lowercase letters, digits, ``.`` ``_`` ``-``) from ``text``."""
    name = _INVALID.sub("-", text.lower()).strip("-._")
    if not name:
        raise UserError(f"cannot make a tool name of {text!r}; pass --name")
    return name


def _go(root: Path) -> Tool | None:
    path = root / "go.mod"
    if not path.is_file():
        return None
    found = _GO_MODULE.search(path.read_text(encoding="utf-8", errors="replace"))
    if found is None:
        raise UserError(f"{path}: no `module` line; pass --name")
    module = found[1].strip('"')
    segments = module.split("/")
    # Go's major-version suffix (github.com/me/tool/v2) is not the program's name.
    program = segments[-2] if len(segments) > 1 and re.fullmatch(r"v\d+", segments[-1]) else None
    program = program or segments[-1]
    homepage = f"https://{module}" if "." in segments[0] else f"https://pkg.go.dev/{module}"
    main = "."
    if not (root / "main.go").is_file() and (root / "cmd" / program).is_dir():
        main = f"./cmd/{program}"
    return Tool(adapter_name(program), program, "go", homepage, main, f"go.mod module {module}")


def _pick_script(name: str, scripts: list[str]) -> str:
    """The console script named like the project, else the first one, else the project name."""
    normal = adapter_name(name)
    for script in scripts:
        if adapter_name(script) == normal:
            return script
    return scripts[0] if scripts else name


def _pyproject(root: Path) -> Tool | None:
    path = root / "pyproject.toml"
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: invalid TOML: {exc}") from None
    project = data.get("project") or {}
    # Poetry before 2.0 keeps name, scripts and urls in [tool.poetry] instead of [project].
    poetry = (data.get("tool") or {}).get("poetry") or {}
    name = project.get("name") or poetry.get("name")
    if not isinstance(name, str):
        return None
    scripts = list((project.get("scripts") or poetry.get("scripts") or {}).keys())
    urls = project.get("urls") or {
        k: v for k, v in poetry.items() if k in ("homepage", "repository") and v
    }
    homepage = next(
        (str(v) for k, v in urls.items() if k.lower() in ("homepage", "source", "repository")),
        f"https://pypi.org/project/{name}/",
    )
    program = _pick_script(name, scripts)
    shown = f"pyproject.toml project {name}" + (f", script {program}" if scripts else "")
    return Tool(adapter_name(program), program, "python", homepage, found_in=shown)


def _setup_cfg(root: Path) -> Tool | None:
    path = root / "setup.cfg"
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise UserError(f"{path}: {exc.message}") from None
    name = parser.get("metadata", "name", fallback=None)
    if not name:
        return None
    raw = parser.get("options.entry_points", "console_scripts", fallback="")
    scripts = [line.split("=", 1)[0].strip() for line in raw.splitlines() if "=" in line]
    homepage = parser.get("metadata", "url", fallback=f"https://pypi.org/project/{name}/")
    program = _pick_script(name, scripts)
    return Tool(adapter_name(program), program, "python", homepage, found_in=f"setup.cfg {name}")


def detect(root: Path) -> Tool | None:
    """The tool in ``root``: ``go.mod`` first, then ``pyproject.toml``, then ``setup.cfg``."""
    for probe in (_go, _pyproject, _setup_cfg):
        found = probe(root)
        if found is not None:
            return found
    return None
