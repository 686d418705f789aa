"""The adapter package's exceptions, in one place.

An adapter file is the user's, so what is wrong in one is a :class:`~compat.errors.UserError`:
its problems (:class:`AdapterError`), a malformed template (:class:`TemplateSyntaxError`,
which the reader turns into one of those problems). What goes wrong once the file was accepted
is the kit's, a :class:`~compat.errors.KitError`: a cell it planned but cannot render
(:class:`MissingValueError`), a replayed call the fake AWS refused (:class:`ReplayError`); the
runner ends such a cell as ``error harness-error``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from compat.adapter.problems import Problem, printable
from compat.errors import KitError, UserError

__all__ = [
    "AdapterError",
    "CombinedAdapterError",
    "MissingValueError",
    "ReplayError",
    "TemplateSyntaxError",
]


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


class CombinedAdapterError(AdapterError):
    """Problems from several files; each line still names its own file."""

    def __init__(self, errors: Sequence[AdapterError]) -> None:
        self.errors = tuple(errors)
        super().__init__(errors[0].path, [p for e in errors for p in e.problems])

    def __str__(self) -> str:
        if not hasattr(self, "errors"):  # during AdapterError.__init__
            return ""
        return "\n".join(str(e) for e in self.errors)


class TemplateSyntaxError(UserError):
    """A template string is not well formed (stray brace, bad placeholder name): the adapter's
    text, so the user's to fix; ``compat.adapter.reader`` reports it as a problem of the file."""

    def __init__(self, template: str, position: int, problem: str) -> None:
        self.template = template
        self.position = position
        self.problem = problem
        super().__init__(f"{problem} at character {position + 1} of {template!r}")


class MissingValueError(KitError):
    """A required placeholder has no value: the caller planned a cell it cannot render (the
    load-time checks let only renderable templates through, so this is the kit's bug)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"placeholder {{{name}}} has no value")


class ReplayError(KitError):
    """A declared API call failed or returned something a release could not have used: the
    fake AWS, not the user's adapter, failed the replay (``error harness-error``)."""
