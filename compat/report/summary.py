"""Append the Markdown report to ``$GITHUB_STEP_SUMMARY`` without tripping its size limit.

The runner aborts the upload of a step summary over 1024 KiB ("supports content up to a size of
1024k", docs/ecosystem.md §5), and other steps may have written to the same file already, so the
report is cut at a line boundary to fit what is left, with a note saying where the rest is.
"""

from __future__ import annotations

import os
from pathlib import Path

from compat.errors import UserError

__all__ = ["ENV", "LIMIT", "append", "fit"]

ENV = "GITHUB_STEP_SUMMARY"
#: The runner's limit for one step's summary, in bytes.
LIMIT = 1024 * 1024
_NOTE = "\n\n*… cut to fit the 1024 KiB step-summary limit: {rest} more lines in `matrix.md`.*\n"


def fit(markdown: str, budget: int) -> str:
    """``markdown`` if it fits in ``budget`` bytes, else its leading lines plus a note."""
    if len(markdown.encode("utf-8")) <= budget:
        return markdown
    lines = markdown.splitlines(keepends=True)
    room = budget - len(_NOTE.format(rest=len(lines)).encode("utf-8"))
    kept, used = [], 0
    for line in lines:
        size = len(line.encode("utf-8"))
        if used + size > room:
            break
        kept.append(line)
        used += size
    return "".join(kept) + _NOTE.format(rest=len(lines) - len(kept))


def append(markdown: str, path: Path | None = None, limit: int = LIMIT) -> Path | None:
    """Append to ``path`` (default: ``$GITHUB_STEP_SUMMARY``); None when there is no summary
    file or no room left in it."""
    if path is None:
        value = os.environ.get(ENV)
        if not value:
            return None
        path = Path(value)
    try:
        used = path.stat().st_size if path.exists() else 0
        budget = limit - used - 2
        if budget < 512:
            return None
        with path.open("a", encoding="utf-8") as handle:
            handle.write(("\n" if used else "") + fit(markdown, budget))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UserError(
            f"${ENV}={path}: cannot append the summary: {reason} (the reports are written)"
        ) from None
    return path
