"""What is wrong in an adapter file, and how a found value reads in the message.

The error that carries the problems, naming the file, is ``compat.adapter.errors.AdapterError``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "Problem",
    "describe",
    "did_you_mean",
    "join",
    "printable",
    "quoted",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an adapter file."""

    #: Dotted key, e.g. ``variant[1] (1.6.0).argv[4]``; "" for the whole file.
    key: str
    message: str
    line: int | None = None
    column: int | None = None


def printable(text: str) -> str:
    """``text`` with control and line-breaking characters escaped: keys and versions come
    from the file, and a CR or U+2028 in one must not start a line of its own."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def describe(value: object) -> str:
    """How a found TOML value reads in an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def quoted(choices: Iterable[str]) -> str:
    return ", ".join(f'"{c}"' for c in choices)


def join(prefix: str, key: str) -> str:
    key = key or '""'  # an empty TOML key, not "the whole file"
    return f"{prefix}.{key}" if prefix else key
