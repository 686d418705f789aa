"""The order cells start in: longest first (no long cell left to run alone at the end), cells
of one shared resource and KMS setting together, plan order otherwise; a worker skips a cell
that would wait for a KMS switch."""

from __future__ import annotations

from itertools import groupby

from compat.adapter.load import load_adapters
from compat.plan.cells import plan
from compat.runner.cell import gate_key
from compat.runner.gate import KmsGate
from compat.runner.pool import _Queue, expected_cost, schedule


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


def test_a_worker_takes_a_cell_it_can_start_instead_of_waiting_for_a_kms_switch() -> None:
    cells = plan(load_adapters())
    order = schedule(cells)
    gate = KmsGate()
    first = next(i for i in order if gate_key(cells[i]) is not None)
    key = gate_key(cells[first])
    assert key is not None
    resource, on = key[:-1], key[-1] == "on"
    queue = _Queue(cells, order, gate)
    with gate.hold(resource, not on, lambda: None):  # another cell holds the other setting
        taken = queue.take()
    assert taken is not None and taken != first
    assert gate_key(cells[taken]) != key
    rest = [queue.take() for _ in range(len(cells) - 1)]
    assert sorted([taken, *rest]) == list(range(len(cells)))  # every cell, exactly once
    assert queue.take() is None
