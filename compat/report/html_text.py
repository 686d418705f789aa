"""Small pieces of the HTML report: escaping, the kit's texts with code spans, status marks."""

from __future__ import annotations

from html import escape

from compat.report.escape import clean, spans
from compat.report.model import STATUSES

__all__ = ["CSS_NAME", "SYMBOL", "code_span", "esc", "prose"]

CSS_NAME = {key: ("na" if key == "n/a" else key) for key in STATUSES}
#: The symbol drawn for each status: a pass with warnings is a pass (its marker is CSS).
SYMBOL = {key: ("✓" if key == "warn" else s.symbol) for key, s in STATUSES.items()}


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def code_span(value: object) -> str:
    return f"<code>{esc(value)}</code>"


def prose(text: object) -> str:
    """The kit's own texts (fix texts, explanations) with their ``code spans`` as ``<code>``
    (GFM §6.1: the backticks go, one space inside each end is trimmed); all else escaped."""
    out = []
    for is_code, part in spans(clean(text)):
        if not is_code:
            out.append(esc(part))
            continue
        ticks = len(part) - len(part.lstrip("`"))
        inner = part[ticks:-ticks]
        if len(inner) > 1 and inner[0] == inner[-1] == " " and inner.strip(" "):
            inner = inner[1:-1]
        out.append(code_span(inner))
    return "".join(out)
