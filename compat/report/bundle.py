"""Read a matrix.json, and write every report from it into one directory, whole or not at all.

A report directory is read by people and uploaded by CI while a new run is on its way, so a new
report is written into a staging directory inside it and swapped in, name by name, only once
every file rendered: a failure, Ctrl-C or kill before that leaves the previous report (and the
evidence it points at) as it was. The kit owns only :data:`OUTPUTS` in that directory and never
touches anything else there.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from compat.errors import UserError
from compat.evidence.procs import alive
from compat.report.badges import Badge

__all__ = ["OUTPUTS", "Staging", "Written", "load", "render_into", "write_reports"]

#: Everything the kit writes in a report directory.
OUTPUTS = ("evidence", "badges", "junit.xml", "index.html", "matrix.md", "matrix.json")
_PREFIX = ".smp-compat-"


@dataclass
class Written:
    """What :func:`write_reports` wrote: files by kind, the badges, and the summary file."""

    files: dict[str, Path] = field(default_factory=dict)
    badges: list[Badge] = field(default_factory=list)
    summary: Path | None = None


def load(path: Path) -> dict[str, Any]:
    """A validated matrix.json; :class:`UserError` (one line) for a missing, unreadable,
    non-UTF-8, non-JSON, too deeply nested or invalid file, naming the file and the JSON path."""
    from compat.report.schema import validate  # noqa: PLC0415

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file (run `smp-compat run` first)") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory; expected a matrix.json file") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start}): not a matrix.json") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read it: {exc.strerror}") from None
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from None
    except ValueError as exc:  # NaN or Infinity
        raise UserError(f"{path}: {exc}") from None
    except RecursionError:
        raise UserError(f"{path}: JSON nested too deeply to be a matrix.json") from None
    try:
        validate(document, source=str(path))
    except RecursionError:
        raise UserError(f"{path}: JSON nested too deeply to be a matrix.json") from None
    result: dict[str, Any] = document
    return result


def _no_constant(name: str) -> object:
    """``NaN`` and ``Infinity`` are not JSON (RFC 8259 §6) and break the page's script."""
    raise ValueError(f"{name} is not a JSON number; a matrix.json never holds one")


class Staging:
    """A fresh directory inside ``out_dir`` where a new report is written before it replaces
    the old one (:meth:`commit`); removed on exit whatever happened. Staging left by a killed
    run (its process is gone) is removed when the next one starts."""

    def __init__(self, out_dir: Path, option: str = "--out") -> None:
        self.out_dir = out_dir
        self.option = option
        self.path = out_dir / f"{_PREFIX}new-{os.getpid()}-{secrets.token_hex(4)}"

    def __enter__(self) -> Staging:
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise UserError(f"{self.option} {self.out_dir}: is a file; expected a directory")
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._remove_stale()
            self.path.mkdir()
        except OSError as exc:
            raise UserError(f"{self.option} {self.out_dir}: cannot write there: {exc}") from None
        return self

    def _remove_stale(self) -> None:
        for entry in self.out_dir.glob(f"{_PREFIX}*-*-*"):
            pid = entry.name.removeprefix(_PREFIX).split("-")[1]
            stale = pid.isdigit() and not alive(int(pid))
            if stale and entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)

    def commit(self) -> None:
        """Put the outputs found in the staging directory in place of the old ones: the old
        ones move aside first, then the new ones in (renames on one file system); on a
        failure the old ones are put back."""
        names = [name for name in OUTPUTS if (self.path / name).exists()]
        trash = self.out_dir / f"{_PREFIX}old-{os.getpid()}-{secrets.token_hex(4)}"
        trash.mkdir()
        aside: list[str] = []
        placed: list[str] = []
        try:
            for name in names:
                old = self.out_dir / name
                if old.exists() or old.is_symlink():
                    old.rename(trash / name)
                    aside.append(name)
            for name in names:
                (self.path / name).rename(self.out_dir / name)
                placed.append(name)
        except OSError as exc:
            for name in placed:
                (self.out_dir / name).rename(self.path / name)
            for name in aside:
                (trash / name).rename(self.out_dir / name)
            trash.rmdir()
            raise UserError(
                f"{self.option} {self.out_dir}: cannot replace the report: {exc}"
            ) from None
        shutil.rmtree(trash, ignore_errors=True)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def render_into(
    document: Mapping[str, Any], directory: Path, *, reports: bool = True, matrix: bool = False
) -> Written:
    """Write matrix.md (and matrix.json with ``matrix``; index.html, junit.xml and badges/ with
    ``reports``) straight into ``directory``, a staging directory."""
    from compat.report import badges, html, junit, markdown  # noqa: PLC0415
    from compat.report import matrix as matrix_json  # noqa: PLC0415

    written = Written()
    if matrix:
        written.files["matrix"] = matrix_json.write(document, directory)
    md_path = directory / "matrix.md"
    md_path.write_text(markdown.render(document), encoding="utf-8")
    written.files["markdown"] = md_path
    if reports:
        written.files["html"] = html.write(document, directory / "index.html")
        written.files["junit"] = junit.write(document, directory / "junit.xml")
        written.badges = badges.write(document, directory / "badges")
        written.files["badges"] = directory / "badges"
    return written


def write_reports(
    document: Mapping[str, Any],
    out_dir: Path,
    *,
    step_summary: bool = True,
    reports: bool = True,
    matrix: bool = False,
) -> Written:
    """Write index.html, matrix.md, junit.xml and badges/ (and matrix.json with ``matrix``)
    into ``out_dir``, all or none; then append matrix.md to ``$GITHUB_STEP_SUMMARY`` when it
    is set and ``step_summary`` is true."""
    from compat.report import markdown, summary  # noqa: PLC0415

    with Staging(out_dir) as staging:
        written = render_into(document, staging.path, reports=reports, matrix=matrix)
        staging.commit()
    written.files = {kind: out_dir / path.name for kind, path in written.files.items()}
    if step_summary:
        written.summary = summary.append(markdown.render(document, level=2))
    return written
