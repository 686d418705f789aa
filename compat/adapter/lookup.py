"""The schema asked by the loader: which keys a table accepts, and one key's declaration.

Kept apart from the declarations in :mod:`compat.adapter.schema`, so that table stays data a
contributor edits, and every loader module asks it the same way.
"""

from __future__ import annotations

from compat.adapter.keyspec import Key, Table
from compat.adapter.placeholders import Mode
from compat.adapter.schema import KEYS

__all__ = ["allowed", "key", "keys"]


def keys(table: Table, mode: Mode | None = None) -> tuple[Key, ...]:
    """The keys of ``table`` (for ``mode``'s variants, or every mode's), in declaration order."""
    return tuple(
        k
        for k in KEYS
        if k.table == table and (mode is None or mode in k.modes or k.explained_elsewhere)
    )


def allowed(table: Table, mode: Mode | None = None) -> tuple[str, ...]:
    """The names :func:`keys` gives, each once, in a stable order for "expected one of…"."""
    return tuple(dict.fromkeys(k.name for k in keys(table, mode)))


def key(table: Table, name: str) -> Key:
    """The declaration of ``name`` in ``table``."""
    return next(k for k in KEYS if k.table == table and k.name == name)
