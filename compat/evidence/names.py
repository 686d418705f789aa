"""The directory name of a cell's evidence (and of its sandbox): stable, safe, one per cell.

A report's evidence is committed beside ``matrix.json``, so its names must not change from run
to run: they are derived from the cell id (``tool/variant/scenario/release``) alone. The parts
are joined with ``__``; that join is only one-to-one while no part holds ``__`` or starts or
ends with ``_`` (tool ``x`` with variant ``y__v`` and tool ``x__y`` with variant ``v`` would
meet), and a name must stay far below the file system's 255 bytes. A cell id outside that safe
shape keeps a readable prefix and gets ``~`` and a hash of the whole id, a character no plain
name holds, so a hashed name never meets a plain one.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["MAX_NAME", "cell_dirname"]

#: Longest name returned (bytes, ASCII): room for a suffix the caller may add.
MAX_NAME = 120
#: A part that joins one-to-one: letters and digits, single ``.``, ``_`` or ``-`` between them.
_PLAIN = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_HASH = 12


def cell_dirname(cell_id: str) -> str:
    """``ecsk__0.6.1__kms__1.2.677.0`` for ``ecsk/0.6.1/kms/1.2.677.0``; a cell id that would
    not join one-to-one, or be too long, gets ``<readable prefix>~<hash of the id>``."""
    parts = cell_id.split("/")
    name = "__".join(parts)
    if all(_PLAIN.fullmatch(p) for p in parts) and len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(cell_id.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH]
    readable = _UNSAFE.sub("-", name).strip("._-")[: MAX_NAME - _HASH - 1].rstrip("._-")
    return f"{readable or 'cell'}~{digest}"
