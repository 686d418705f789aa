"""What one adapter key declares: its table, type, modes, kinds, choices, default, meaning.

:mod:`compat.adapter.schema` lists every key as a :class:`Key`; the loader
(:mod:`compat.adapter.lookup`) and ``compat.adapter.schema_doc`` read those fields, so a key's
rules and its README row come from one declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from compat.adapter.placeholders import Kind, Mode

__all__ = ["KINDS", "MODES", "Key", "Table"]

#: Where a key lives: the file's top level, a ``[[variant]]``, a launch (a variant or its
#: ``port_forward`` table) or a run variant's ``requires`` table.
Table = Literal["tool", "variant", "launch", "requires"]

KINDS: tuple[Kind, ...] = get_args(Kind)
MODES: tuple[Mode, ...] = get_args(Mode)


@dataclass(frozen=True)
class Key:
    """One key of an adapter file."""

    name: str
    table: Table
    #: The TOML type, as an error or the README says it.
    type: str
    #: One line for ``adapters/README.md``; "" when the key's own sub-keys are its rows.
    meaning: str
    #: The modes whose variants accept it.
    modes: tuple[Mode, ...] = MODES
    #: The kinds whose variants may set it (another kind gets an error naming the right key).
    kinds: tuple[Kind, ...] = KINDS
    choices: tuple[str, ...] = ()
    required: bool = False
    #: The default as the README shows it ("\u2013": unset).
    default: str = "\u2013"
    #: The README lists it in one row with the next key (``document``, ``parameters``).
    shares_row: bool = False
    #: Accepted in the other mode's variants too, where the loader says why it does not apply
    #: instead of "unknown key".
    explained_elsewhere: bool = False
