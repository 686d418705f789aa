"""Placeholder templates for adapter commands and argv: parse once, render per cell.

Grammar (kept small on purpose, so an adapter reads like the command it stands for):

- ``{name}`` is replaced by the value of ``name``; the value must be set.
- ``{name?}`` is replaced by the value, or by the empty string when it is unset (a release
  that passes ``""`` when the user chose nothing, e.g. ecsk's ``opts.Profile``).
- ``{{`` and ``}}`` are a literal ``{`` and ``}`` (JSON in a command line).
- In an argv template, a nested list is an *optional group*: it is dropped as a whole when
  any placeholder in it is unset, e.g. ``["--profile", "{profile}"]``.

Values are inserted verbatim and never re-read as templates, so a value holding ``{x}``
(a JSON document, say) cannot be mistaken for a placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from compat.adapter.errors import MissingValueError, TemplateSyntaxError

__all__ = [
    "Argv",
    "ArgvItem",
    "Part",
    "Text",
    "Values",
    "parse",
    "placeholders",
    "render_argv",
    "render_text",
]

#: Placeholder values for one cell; ``None`` means "unset" (e.g. no profile chosen).
Values = Mapping[str, str | None]

_NAME = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class Part:
    """One placeholder inside a template string."""

    name: str
    #: ``{name?}``: render "" when unset instead of failing.
    empty_if_unset: bool = False


@dataclass(frozen=True)
class Text:
    """A parsed template string: literal pieces and placeholders, in order."""

    source: str
    pieces: tuple[str | Part, ...]

    @property
    def parts(self) -> tuple[Part, ...]:
        return tuple(p for p in self.pieces if isinstance(p, Part))


#: One argv element: a template string, or an optional group of template strings.
ArgvItem = Text | tuple[Text, ...]
Argv = tuple[ArgvItem, ...]


def parse(template: str) -> Text:
    """Parse ``template``; :class:`TemplateSyntaxError` says where it is malformed."""
    pieces: list[str | Part] = []
    literal: list[str] = []
    i = 0
    n = len(template)
    while i < n:
        char = template[i]
        if char == "{" and template.startswith("{{", i):
            literal.append("{")
            i += 2
        elif char == "}" and template.startswith("}}", i):
            literal.append("}")
            i += 2
        elif char == "{":
            end = template.find("}", i + 1)
            if end < 0:
                raise TemplateSyntaxError(template, i, "unclosed '{'")
            body = template[i + 1 : end]
            optional = body.endswith("?")
            name = body[:-1] if optional else body
            if not _NAME.fullmatch(name):
                raise TemplateSyntaxError(
                    template,
                    i,
                    f"bad placeholder {{{body}}} (names are lower_case; write {{{{ for a"
                    " literal brace)",
                )
            if literal:
                pieces.append("".join(literal))
                literal = []
            pieces.append(Part(name, optional))
            i = end + 1
        elif char == "}":
            raise TemplateSyntaxError(template, i, "single '}' (write }} for a literal brace)")
        else:
            literal.append(char)
            i += 1
    if literal:
        pieces.append("".join(literal))
    return Text(template, tuple(pieces))


def placeholders(item: ArgvItem | Argv) -> tuple[Part, ...]:
    """Every placeholder in a parsed string, group or argv, in order of appearance."""
    if isinstance(item, Text):
        return item.parts
    found: list[Part] = []
    for sub in item:
        found.extend(placeholders(sub))
    return tuple(found)


def _is_set(values: Values, name: str) -> bool:
    return values.get(name) is not None


def render_text(text: Text, values: Values) -> str:
    """The string with every placeholder replaced; :class:`MissingValueError` if one is unset."""
    out: list[str] = []
    for piece in text.pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        value = values.get(piece.name)
        if value is None:
            if not piece.empty_if_unset:
                raise MissingValueError(piece.name)
            value = ""
        out.append(value)
    return "".join(out)


def render_argv(argv: Sequence[ArgvItem], values: Values) -> list[str]:
    """The argv for one cell: groups with an unset placeholder are dropped, the rest rendered."""
    out: list[str] = []
    for item in argv:
        if isinstance(item, Text):
            out.append(render_text(item, values))
        elif all(_is_set(values, p.name) for p in placeholders(item)):
            out.extend(render_text(t, values) for t in item)
    return out
