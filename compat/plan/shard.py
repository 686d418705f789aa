"""Sharded runs: a stable, cost-balanced share of a plan's cells, and the plan's fingerprint.

Every CI job plans the same cells from the same adapters, so each can compute its own share
without talking to the others. The split must therefore depend only on the plan: cell ids,
their expected cost and the adapter files, never on the machine, the clock or ``hash()``'s
per-process salt. :func:`fingerprint` names the plan so ``smp-compat merge`` can refuse parts
of different runs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from compat.errors import UserError
from compat.plan.cells import Cell

__all__ = ["COSTS", "Shard", "assign", "cost", "fingerprint", "parse_shard", "share"]

#: Expected cost of a cell, in rough "replay cell" units (measured on the 2-core dev machine:
#: a replay is one plugin start, ~0.5 s; a real program adds its own start and API calls, and
#: a pty, ~1.5 s). ``n/a`` cells cost nothing: they are decided without running anything.
COSTS = {"n/a": 0, "replay": 2, "run": 5, "run-tty": 6}

_SHARD = re.compile(r"^(\d+)/(\d+)$")


@dataclass(frozen=True)
class Shard:
    """``index`` of ``count`` (1-based, as people and GitHub ``strategy.matrix`` count)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"2/3"`` -> ``Shard(2, 3)``; a one-line :class:`UserError` for anything else."""
    found = _SHARD.match(text.strip())
    if found is None:
        raise UserError(f"--shard {text!r}: expected I/N, e.g. 1/3")
    index, count = int(found[1]), int(found[2])
    if count < 1 or not 1 <= index <= count:
        raise UserError(f"--shard {text}: expected 1 <= I <= N")
    return Shard(index, count)


def cost(cell: Cell) -> int:
    """The cell's expected cost (see :data:`COSTS`)."""
    if cell.not_applicable is not None:
        return COSTS["n/a"]
    if cell.variant.mode == "replay":
        return COSTS["replay"]
    return COSTS["run-tty"] if cell.variant.tty else COSTS["run"]


def _digest(text: str) -> int:
    """A hash of ``text`` that is the same in every process (``hash()`` is salted)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def assign(cells: Sequence[Cell], count: int) -> list[int]:
    """The shard (1-based) of each cell, in the order of ``cells``.

    Longest-processing-time-first: the costliest cells are placed first, each on the least
    loaded shard; ties are broken by the cell id's digest, then by the lowest shard, so the
    result is a function of the plan alone. Free (``n/a``) cells are spread by digest, so no
    shard is left with nothing to report for a column.
    """
    loads = [0] * count
    placed = [0] * count
    shards = [0] * len(cells)
    order = sorted(range(len(cells)), key=lambda i: (-cost(cells[i]), _digest(cells[i].id)))
    for i in order:
        weight = cost(cells[i])
        if weight:
            best = min(range(count), key=lambda s: (loads[s], placed[s], s))
        else:
            best = _digest(cells[i].id) % count
        loads[best] += weight
        placed[best] += 1
        shards[i] = best + 1
    return shards


def share(cells: Sequence[Cell], shard: Shard) -> list[Cell]:
    """The cells ``shard`` runs, in plan order."""
    return [c for c, s in zip(cells, assign(cells, shard.count), strict=True) if s == shard.index]


def _file_digest(path: Path | None) -> str:
    if path is None:
        return "-"
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return "unreadable"


def fingerprint(cells: Sequence[Cell]) -> str:
    """``sha256:<hex>`` of the plan: every cell id with its mode and n/a reason, and the
    content of every adapter file (not its path, which differs between machines)."""
    lines = sorted(f"{c.id} {c.variant.mode} {c.not_applicable or '-'}" for c in cells)
    adapters = sorted({f"{c.adapter.name} {_file_digest(c.adapter.path)}" for c in cells})
    text = "\n".join([*lines, *adapters])
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
