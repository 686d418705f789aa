"""What is wrong in an adapter file, and how a found value reads in the message."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from compat.errors import UserError

__all__ = [
    "AdapterError",
    "CombinedAdapterError",
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


class AdapterError(UserError):
    """An adapter file (or a set of them) is malformed; one line per problem."""

    def __init__(self, path: Path | str, problems: Sequence[Problem]) -> None:
        self.path = Path(path)
        self.problems = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = []
        for p in self.problems:
            where = str(self.path)
            if p.line is not None:
                where += f":{p.line}:{p.column}"
            key, message = printable(p.key), printable(p.message)
            lines.append(f"{where}: {key}: {message}" if key else f"{where}: {message}")
        return "\n".join(lines)


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


class CombinedAdapterError(AdapterError):
    """Problems from several files; each line still names its own file."""

    def __init__(self, errors: Sequence[AdapterError]) -> None:
        self.errors = tuple(errors)
        super().__init__(errors[0].path, [p for e in errors for p in e.problems])

    def __str__(self) -> str:
        if not hasattr(self, "errors"):  # during AdapterError.__init__
            return ""
        return "\n".join(str(e) for e in self.errors)
