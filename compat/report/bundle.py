"""Read a matrix.json and write every report from it into one directory."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compat.errors import UserError
from compat.report.badges import Badge

__all__ = ["Written", "load", "write_reports"]


@dataclass
class Written:
    """What :func:`write_reports` wrote: files by kind, the badges, and the summary file."""

    files: dict[str, Path] = field(default_factory=dict)
    badges: list[Badge] = field(default_factory=list)
    summary: Path | None = None


def load(path: Path) -> dict[str, Any]:
    """A validated matrix.json; :class:`UserError` (one line) for a missing, non-JSON or
    invalid file, naming the file and the JSON path."""
    from compat.report.schema import validate  # noqa: PLC0415

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file (run `smp-compat run` first)") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read it: {exc.strerror}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from None
    validate(document, source=str(path))
    result: dict[str, Any] = document
    return result


def write_reports(
    document: Mapping[str, Any], out_dir: Path, *, step_summary: bool = True
) -> Written:
    """Write index.html, matrix.md, junit.xml and badges/ into ``out_dir``; append matrix.md
    to ``$GITHUB_STEP_SUMMARY`` when it is set and ``step_summary`` is true."""
    from compat.report import badges, html, junit, markdown, summary  # noqa: PLC0415

    out_dir.mkdir(parents=True, exist_ok=True)
    written = Written()
    written.files["html"] = html.write(document, out_dir / "index.html")
    text = markdown.render(document)
    md_path = out_dir / "matrix.md"
    md_path.write_text(text, encoding="utf-8")
    written.files["markdown"] = md_path
    written.files["junit"] = junit.write(document, out_dir / "junit.xml")
    written.badges = badges.write(document, out_dir / "badges")
    written.files["badges"] = out_dir / "badges"
    if step_summary:
        written.summary = summary.append(markdown.render(document, level=2))
    return written
