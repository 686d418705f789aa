"""The order cells start in: longest first (no long cell left to run alone at the end), cells
of one shared resource and KMS setting together, plan order otherwise."""

from __future__ import annotations

from itertools import groupby

from compat.adapter_load import load_adapters
from compat.plan import plan
from compat.runner.cell import gate_key
from compat.runner.pool import expected_cost, schedule


def test_the_built_in_matrix_starts_longest_first_and_groups_shared_resources() -> None:
    cells = plan(load_adapters())
    order = schedule(cells)
    assert sorted(order) == list(range(len(cells)))
    costs = [expected_cost(cells[i]) for i in order]
    assert costs == sorted(costs, reverse=True)
    # The reconnect cells, which may wait out a resume window, start before any other.
    first = cells[order[0]]
    assert first.scenario.name == "reconnect" and first.not_applicable is None
    assert all(cells[i].not_applicable is not None for i in order[costs.index(0) :])
    for _, same_cost in groupby(order, key=lambda i: expected_cost(cells[i])):
        keys = [gate_key(cells[i]) for i in same_cost]
        shared = [k for k in keys if k is not None]
        # Each shared key's cells are contiguous, and before the cells that share nothing.
        assert len({k for k, _ in groupby(shared)}) == len(list(groupby(shared)))
        assert keys[: len(shared)] == shared
